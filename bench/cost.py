"""CPU cost of one request per scenario, measured in-process: steadier than req/s here.

`run.py` measures throughput through gunicorn and wrk, which the other work on a shared
machine disturbs. This calls the WSGI apps directly (no server, no sockets) and keeps the
lowest CPU time per request over several rounds, which load on the other core hardly moves.
The shop's figure minus the ceiling's is what the shop adds on top of bare Flask.

    .venv/bin/python bench/cost.py                 # PostgreSQL, every scenario
    .venv/bin/python bench/cost.py --db sqlite
    .venv/bin/python bench/cost.py --profile "product read"   # where that time goes
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ceiling
import dataset
import harness
from sqlalchemy import select

DATABASE_NAME = "storefront_bench_cost"


def call(app: Callable, path: str, query: str = "", cookie: str | None = None) -> str:
    """One GET straight through the WSGI interface; returns the status line."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    statuses: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return statuses[0]


def cpu_ms(app: Callable, *request: Any) -> float:
    """The lowest CPU milliseconds per request through `app`; a non-200 answer is an error."""
    status = call(app, *request)
    if not status.startswith("200"):
        raise RuntimeError(f"{request} answered {status}")
    return lowest_cpu_ms(lambda: call(app, *request))


def lowest_cpu_ms(step: Callable[[], object], calls: int = 50, rounds: int = 9) -> float:
    """The lowest CPU milliseconds per call of `step` over `rounds` rounds of `calls` calls."""
    for _ in range(10):
        step()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            step()
        best = min(best, (time.process_time() - started) / calls * 1000)
    return best


def print_row_reads(product_id: int) -> None:
    """What reading one product row costs beneath the shop: the driver alone, then Core.

    The floor of a product read: whatever the shop does around it, the database read costs
    at least this much of the client's CPU (the database server's comes on top).
    """
    engine = dataset.db.engine
    products = dataset.db.metadata.tables["products"]
    statement = select(products).where(products.c.id == product_id)
    by_id = (
        "SELECT * FROM products WHERE id = ?"
        if engine.dialect.paramstyle == "qmark"
        else "SELECT * FROM products WHERE id = %s"
    )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def driver_read() -> object:
            cursor.execute(by_id, (product_id,))
            return cursor.fetchone()

        def core_read() -> object:
            with engine.connect() as connection:
                return connection.execute(statement).one()

        print(f"  {'row read, driver':<22} {lowest_cpu_ms(driver_read):6.3f}")
        print(f"  {'row read, Core':<22} {lowest_cpu_ms(core_read):6.3f}")
    finally:
        raw.close()


def scenarios(products: tuple[int, int], cookies: list[str]) -> dict[str, tuple]:
    first = products[0]
    return {
        "healthz": ("/healthz",),
        "product read": (f"/api/products/{first + 7}",),
        "products page 1": ("/api/products", "page=1"),
        "products search": ("/api/products", f"q={dataset.SEARCH_WORD}"),
        "HTML catalogue /": ("/",),
        "cart (logged in)": ("/api/cart", "", cookies[0]),
        "me (logged in)": ("/api/me", "", cookies[1]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--profile", metavar="SCENARIO", help="print a pyinstrument profile")
    options = parser.parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="storefront-cost-"))
    if options.db == "postgres":
        url = harness.fresh_postgres_database(DATABASE_NAME)
    else:
        url = f"sqlite:///{work_dir / 'cost.db'}"
    app = dataset.shop_app(
        url, secrets.token_urlsafe(48), RATELIMIT_ENABLED=False, UPLOAD_FOLDER=str(work_dir)
    )
    dataset.migrate(app)
    with app.app_context():
        users = dataset.add_users(2)
        products = dataset.add_products(options.products)
        dataset.fill_carts(list(range(users[0], users[1] + 1)), products)
    cookies = dataset.log_in_directly(app, list(range(users[0], users[1] + 1)))
    # The request log still formats each line; only the writing is spared.
    for handler in logging.getLogger().handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
    chosen = scenarios(products, cookies)
    try:
        if options.profile:
            profile(app, chosen[options.profile])
        else:
            base = cpu_ms(ceiling.app, "/")
            print(f"CPU ms per request, in-process, {options.db}, {options.products} products")
            print(f"  {'ceiling (bare Flask)':<22} {base:6.3f}")
            for name, request in chosen.items():
                spent = cpu_ms(app, *request)
                print(f"  {name:<22} {spent:6.3f}   ceiling + {spent - base:.3f}")
            print("beneath the shop, one product row by id (the floor of a product read):")
            with app.app_context():
                print_row_reads(products[0] + 7)
    finally:
        with app.app_context():
            dataset.db.engine.dispose()
        if options.db == "postgres":
            harness.drop_postgres_database(DATABASE_NAME)
    return 0


def profile(app: Callable, request: tuple) -> None:
    """Where 300 such requests spend their time (pyinstrument, not a project dependency)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: pip install pyinstrument") from None
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(300):
        call(app, *request)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    sys.exit(main())
