"""`make bench`: Storefront's throughput side by side with a bare-Flask ceiling, in one run.

Starts the shop under gunicorn (2 sync workers, 127.0.0.1) on a freshly generated dataset,
and beside it a bare Flask app answering a constant JSON object (the ceiling) under the same
gunicorn settings. Each scenario is measured with wrk for a few seconds right after a run
of the ceiling, so both see the same machine load; the best of `--repeat` such pairs is
kept. Prints a table and writes `bench/results.json`; exits 1 when any target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dataset
import harness
from werkzeug.exceptions import MethodNotAllowed, NotFound

RESULTS_PATH = harness.BENCH_DIR / "results.json"
DATABASE_NAME = os.environ.get("BENCH_DATABASE_NAME", "storefront_bench")
PRODUCT_READ = "GET /api/products/<id>"
REFERENCE_READ = "reference: tutorial-style read"
FLOOR_READ = "floor: one driver query, no ORM"
FIRST_PAGE = "GET /api/products?page=1"
PRODUCT_READ_TARGET = 0.60
FIRST_PAGE_SCALING_TARGET = 0.80
RSS_LIMIT_MB = 150
PER_PAGE = 20
CART_USERS = 500


@dataclass
class Scenario:
    """One kind of request: what is asked, how, and whether it may be run twice."""

    name: str
    method: str
    path: str
    script: str | None = None
    args: list[str] = field(default_factory=list)
    probe: dict[str, Any] = field(default_factory=dict)
    repeatable: bool = True
    apart: bool = False
    #: Measured on the reference app (bench/reference.py) instead of the shop.
    reference: bool = False
    #: Slow scenarios (argon2) get fewer connections and a longer run, so requests complete.
    connections: int | None = None
    min_duration: float = 0


@dataclass
class Row:
    """One line of the table and of results.json."""

    scenario: str
    products: int | None
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    error_detail: dict[str, int] = field(default_factory=dict)
    ceiling_rps: float = 0.0
    cpu_ms: float | None = None
    ratio: float | None = None
    target: str = ""
    verdict: str = ""
    note: str = ""
    apart: bool = False


@dataclass
class Context:
    """What the scenarios need: options, the in-process app, the data made, the ceiling."""

    options: argparse.Namespace
    app: Any
    work_dir: Path
    ceiling: harness.Server
    reference: harness.Server
    ceiling_runs: list[harness.WrkResult] = field(default_factory=list)
    users: tuple[int, int] = (0, 0)
    products: tuple[int, int] | None = None
    cart_cookies: Path | None = None
    checkout_cookies: Path | None = None
    probe_cookie: str | None = None
    rss_before_login_kb: dict[int, int] = field(default_factory=dict)


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--products",
        default="1000,100000",
        help="comma-separated catalogue sizes, each measured (default %(default)s)",
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=3, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per scenario")
    parser.add_argument("--repeat", type=int, default=2, help="ceiling+scenario pairs per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--checkout-users", type=int, default=3000)
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    parser.add_argument("--keep-database", action="store_true")
    options = parser.parse_args(argv)
    options.product_sizes = sorted({int(size) for size in options.products.split(",")})
    return options


def wrk(ctx: Context, url: str, duration: float, scenario: Scenario | None = None):
    return harness.run_wrk(
        url,
        script=scenario.script if scenario else None,
        args=scenario.args if scenario else None,
        duration=max(duration, scenario.min_duration if scenario else 0),
        connections=(scenario and scenario.connections) or ctx.options.connections,
    )


def measure_ceiling(ctx: Context) -> harness.WrkResult:
    """One run of the bare Flask app; remembered for the ceiling row."""
    before = ctx.ceiling.cpu_seconds()
    result = wrk(ctx, ctx.ceiling.url + "/", ctx.options.duration)
    result.cpu_ms = cpu_ms(ctx.ceiling.cpu_seconds() - before, result.requests)
    ctx.ceiling_runs.append(result)
    return result


def cpu_ms(seconds: float, requests: int) -> float | None:
    return seconds * 1000 / requests if requests else None


# --- data ------------------------------------------------------------------------------


def database_url(work_dir: Path, db_kind: str) -> str:
    if db_kind == "postgres":
        return harness.fresh_postgres_database(DATABASE_NAME)
    return f"sqlite:///{work_dir / 'bench.db'}"


def has_table(name: str) -> bool:
    return name in dataset.db.metadata.tables


def build_dataset(ctx: Context) -> None:
    """Users, products, filled carts and past orders, then sessions for the cart scenarios."""
    options = ctx.options
    started = time.perf_counter()
    with ctx.app.app_context():
        ctx.users = dataset.add_users(options.users)
        if has_table("products"):
            ctx.products = dataset.add_products(options.product_sizes[0])
        first_user = ctx.users[0]
        cart_users = list(range(first_user, first_user + CART_USERS))
        checkout_users = list(
            range(first_user + CART_USERS, first_user + CART_USERS + options.checkout_users)
        )
        probe_user = ctx.users[1]
        if ctx.products and has_table("cart_items"):
            dataset.fill_carts([*cart_users, *checkout_users, probe_user], ctx.products)
            dataset.add_orders(list(range(ctx.users[0], ctx.users[1] + 1)), ctx.products)
        cookies = dataset.log_in_directly(ctx.app, [*cart_users, *checkout_users, probe_user])
        if options.db == "postgres":
            dataset.vacuum_analyze()
    ctx.cart_cookies = write_lines(ctx.work_dir / "cart-cookies", cookies[:CART_USERS])
    ctx.checkout_cookies = write_lines(ctx.work_dir / "checkout-cookies", cookies[CART_USERS:-1])
    ctx.probe_cookie = cookies[-1]
    print(f"dataset ready in {time.perf_counter() - started:.1f} s", flush=True)


def grow_products(ctx: Context, size: int) -> None:
    """Bring the catalogue up to `size` products with more bulk inserts."""
    assert ctx.products is not None
    current = ctx.products[1] - ctx.products[0] + 1
    started = time.perf_counter()
    with ctx.app.app_context():
        _, last = dataset.add_products(size - current)
        if ctx.options.db == "postgres":
            dataset.vacuum_analyze()
    ctx.products = (ctx.products[0], last)
    print(f"catalogue grown to {size} products in {time.perf_counter() - started:.1f} s")


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# --- scenarios -------------------------------------------------------------------------


def catalogue_scenarios(ctx: Context, size: int) -> list[Scenario]:
    """The scenarios whose cost could grow with the number of products."""
    first, last = ctx.products or (1, size)
    deep = f"/api/products?page={max(1, size // PER_PAGE // 2)}"
    search = f"/api/products?q={dataset.SEARCH_WORD}"
    ids = [str(first), str(last)]
    read = {"path": f"/api/products/{first}", "script": "product_read.lua"}
    return [
        Scenario(PRODUCT_READ, "GET", **read, args=ids),
        Scenario(REFERENCE_READ, "GET", **read, args=ids, reference=True),
        Scenario(
            FLOOR_READ,
            "GET",
            f"/floor/products/{first}",
            script="product_read.lua",
            args=[*ids, "/floor/products/"],
            reference=True,
        ),
        Scenario(FIRST_PAGE, "GET", "/api/products?page=1"),
        Scenario(f"GET {deep}", "GET", deep),
        Scenario(f"GET {search}", "GET", search),
        Scenario("GET / (HTML catalogue)", "GET", "/"),
    ]


def other_scenarios(ctx: Context) -> list[Scenario]:
    """Scenarios measured once, at the first catalogue size."""
    first, last = ctx.products or (1, 1)
    threads = "1"
    cart = str(ctx.cart_cookies)
    return [
        Scenario("GET /healthz", "GET", "/healthz"),
        Scenario(
            "GET /api/cart (logged in)",
            "GET",
            "/api/cart",
            script="as_users.lua",
            args=[cart, threads, "cart"],
            probe={"cookie": ctx.probe_cookie},
        ),
        Scenario(
            "POST /api/cart/items",
            "POST",
            "/api/cart/items",
            script="as_users.lua",
            args=[cart, threads, "add", str(first), str(last)],
            probe={"cookie": ctx.probe_cookie, "json_body": {"product_id": first, "quantity": 1}},
        ),
        Scenario(
            "POST /api/cart/checkout",
            "POST",
            "/api/cart/checkout",
            script="as_users.lua",
            args=[str(ctx.checkout_cookies), threads, "checkout"],
            probe={"cookie": ctx.probe_cookie, "json_body": {}},
            repeatable=False,
        ),
        Scenario(
            "POST /api/login (argon2)",
            "POST",
            "/api/login",
            script="login.lua",
            args=[dataset.USERNAME_PATTERN, str(ctx.users[0]), str(ctx.users[1]), dataset.PASSWORD],
            probe={
                "json_body": {
                    "username": dataset.USERNAME_PATTERN % ctx.users[0],
                    "password": dataset.PASSWORD,
                }
            },
            repeatable=False,
            apart=True,
            connections=harness.GUNICORN_WORKERS,
            min_duration=5,
        ),
    ]


def route_exists(ctx: Context, method: str, path: str) -> bool:
    """Whether the shop has a route for this request (features land one by one)."""
    adapter = ctx.app.url_map.bind("127.0.0.1")
    try:
        adapter.match(path.split("?", 1)[0], method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def measure(ctx: Context, server: harness.Server, scenario: Scenario, size: int | None) -> Row:
    """Probe the scenario once, warm it up, then measure ceiling+scenario pairs with wrk.

    The pair with the best ratio is kept; errors of every run count.
    """
    if scenario.reference:
        server = ctx.reference
    row = Row(scenario.name, size, apart=scenario.apart)
    if not scenario.reference and not route_exists(ctx, scenario.method, scenario.path):
        row.verdict, row.note = "MISSING", "route not on main yet"
        return row
    probe = harness.http(scenario.method, server.url + scenario.path, **scenario.probe)
    if probe.status >= 400:
        row.verdict = "FAIL"
        row.note = f"probe answered {probe.status}: {probe.body[:200].decode(errors='replace')}"
        return row
    url = server.url + scenario.path
    options = ctx.options
    if scenario.repeatable and options.warmup:
        wrk(ctx, url, options.warmup, scenario)
    best_ratio = -1.0
    for _ in range(options.repeat if scenario.repeatable else 1):
        ceiling = measure_ceiling(ctx)
        before = server.cpu_seconds()
        result = wrk(ctx, url, options.duration, scenario)
        spent = server.cpu_seconds() - before
        row.errors += result.errors
        for kind, count in result.error_detail.items():
            row.error_detail[kind] = row.error_detail.get(kind, 0) + count
        ratio = result.rps / ceiling.rps if ceiling.rps else 0.0
        if ratio > best_ratio:
            best_ratio = ratio
            row.rps, row.p50_ms, row.p99_ms = result.rps, result.p50_ms, result.p99_ms
            row.ceiling_rps, row.ratio = ceiling.rps, ratio
            row.cpu_ms = cpu_ms(spent, result.requests)
    server.record_memory()
    print(
        f"  {scenario.name:<34} {size or '':>7} {row.rps:8.0f} req/s  p50 {row.p50_ms:6.1f} ms"
        f"  p99 {row.p99_ms:6.1f} ms  errors {row.errors}  {row.ratio:.2f}× ceiling",
        flush=True,
    )
    return row


# --- targets ---------------------------------------------------------------------------


def judge(rows: list[Row], memory_mb: dict[str, float]) -> list[dict]:
    """Set target and verdict on each row; return the summary targets."""
    targets: list[dict] = []
    for row in rows:
        if row.verdict:
            continue
        failures = []
        if row.errors:
            failures.append(f"{row.errors} errors {row.error_detail}")
        if row.scenario == PRODUCT_READ:
            row.target = f"≥ {PRODUCT_READ_TARGET:.2f}× ceiling"
            if row.ratio is None or row.ratio < PRODUCT_READ_TARGET:
                failures.append("below target")
        if row.scenario == REFERENCE_READ:
            row.target = "for comparison: bench/reference.py, no target"
        if row.scenario == FLOOR_READ:
            row.target = "the most any read can reach here, no target"
        row.verdict = "FAIL" if failures else "PASS"
        row.note = "; ".join(failures)
    first_pages = [r for r in rows if r.scenario == FIRST_PAGE and r.rps]
    if len(first_pages) >= 2:
        small, large = first_pages[0], first_pages[-1]
        # Compared as ratios to their own adjacent ceilings, so machine load cancels out.
        scaling = (large.ratio or 0) / small.ratio if small.ratio else 0.0
        ok = scaling >= FIRST_PAGE_SCALING_TARGET
        large.target = f"≥ {FIRST_PAGE_SCALING_TARGET:.2f}× the rate at {small.products}"
        if not ok:
            large.verdict = "FAIL"
            large.note = "; ".join(filter(None, [large.note, f"only {scaling:.2f}×"]))
        targets.append(
            {
                "target": f"first page at {large.products} products ≥ "
                f"{FIRST_PAGE_SCALING_TARGET} × its rate at {small.products}",
                "measured": round(scaling, 3),
                "verdict": "PASS" if ok else "FAIL",
            }
        )
    for name, peak in memory_mb.items():
        targets.append(
            {
                "target": f"peak RSS of {name} < {RSS_LIMIT_MB} MB",
                "measured": round(peak, 1),
                "verdict": "PASS" if peak < RSS_LIMIT_MB else "FAIL",
            }
        )
    return targets


# --- output ----------------------------------------------------------------------------


def format_table(rows: list[Row], ceiling_runs: list[harness.WrkResult]) -> str:
    header = (
        f"{'scenario':<36} {'products':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'cpu ms':>6} {'ceiling':>7} {'ratio':>5}  {'verdict':<7} target / note"
    )
    lines = [header, "-" * len(header)]
    best = max(ceiling_runs, key=lambda r: r.rps)
    low = min(r.rps for r in ceiling_runs)
    lines.append(
        f"{'ceiling: bare Flask, constant JSON':<36} {'-':>8} {best.rps:7.0f} {best.p50_ms:7.1f} "
        f"{best.p99_ms:7.1f} {sum(r.errors for r in ceiling_runs):6d} "
        f"{best.cpu_ms or 0:6.2f} {'':>7} {1:5.2f}  {'':<7} "
        f"best of {len(ceiling_runs)} runs (lowest {low:.0f})"
    )
    for apart in (False, True):
        group = [r for r in rows if r.apart == apart]
        if apart and group:
            lines.append("reported apart (argon2 by design):")
        for r in group:
            ratio = f"{r.ratio:5.2f}" if r.ratio is not None else f"{'-':>5}"
            cpu = f"{r.cpu_ms:6.2f}" if r.cpu_ms is not None else f"{'-':>6}"
            size = str(r.products) if r.products else "-"
            detail = " ".join(filter(None, [r.target, f"({r.note})" if r.note else ""]))
            lines.append(
                f"{r.scenario:<36} {size:>8} {r.rps:7.0f} {r.p50_ms:7.1f} {r.p99_ms:7.1f} "
                f"{r.errors:6d} {cpu} {r.ceiling_rps:7.0f} {ratio}  {r.verdict:<7} {detail}"
            )
    return "\n".join(lines)


def machine_description() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def run_scenarios(ctx: Context, server: harness.Server) -> list[Row]:
    """Catalogue scenarios at each size, the others at the first; login last of all.

    Login goes last because gunicorn's backlog of slow argon2 requests keeps the workers
    writing sessions for a while after wrk stops, which would race the catalogue's growth.
    """
    rows: list[Row] = []
    others = other_scenarios(ctx)
    for index, size in enumerate(ctx.options.product_sizes):
        if index and ctx.products:
            grow_products(ctx, size)
        print(f"scenarios at {size} products:", flush=True)
        for scenario in catalogue_scenarios(ctx, size):
            rows.append(measure(ctx, server, scenario, size))
        if index == 0:
            rows += [measure(ctx, server, s, None) for s in others if not s.apart]
    server.record_memory()
    ctx.rss_before_login_kb = dict(server.peak_rss_kb)
    rows += [measure(ctx, server, s, None) for s in others if s.apart]
    return rows


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    harness.ensure_wrk()
    log_dir = harness.new_log_dir("bench")
    work_dir = Path(tempfile.mkdtemp(prefix="storefront-bench-data-"))
    secret = secrets.token_urlsafe(48)
    url = database_url(work_dir, options.db)
    uploads = str(work_dir / "uploads")
    app = dataset.shop_app(url, secret, UPLOAD_FOLDER=uploads)
    dataset.migrate(app)
    ceiling = harness.Server(
        "ceiling", "ceiling:app", dict(os.environ), log_dir, chdir=harness.BENCH_DIR
    )
    reference = harness.Server(
        "reference",
        "reference:app",
        {**os.environ, "DATABASE_URL": url},
        log_dir,
        chdir=harness.BENCH_DIR,
    )
    ctx = Context(options, app, work_dir, ceiling, reference)
    build_dataset(ctx)
    print(
        f"wrk: 1 thread, {options.connections} connections, {options.duration:g} s per run, "
        f"{options.repeat} ceiling+scenario pairs per scenario"
    )
    env = harness.shop_environment(url, SECRET_KEY=secret, UPLOAD_FOLDER=uploads)
    server = harness.Server("storefront", "storefront.wsgi:app", env, log_dir)
    with ceiling.start(ready_path="/"), reference.start(), server.start():
        wrk(ctx, ceiling.url + "/", options.warmup)
        rows = run_scenarios(ctx, server)
        server.record_memory()
    memory_mb = {
        f"shop worker {n}": kb / 1024 for n, kb in enumerate(sorted(server.peak_rss_kb.values()), 1)
    }
    targets = judge(rows, memory_mb)
    table = format_table(rows, ctx.ceiling_runs)
    before_login = [round(kb / 1024, 1) for kb in sorted(ctx.rss_before_login_kb.values())]
    print()
    print(table)
    print(f"peak RSS of the shop workers before the login scenario (argon2): {before_login} MB")
    for target in targets:
        print(f"{target['verdict']:<5} {target['target']}: {target['measured']}")
    passed = all(r.verdict == "PASS" for r in rows) and all(t["verdict"] == "PASS" for t in targets)
    print("ALL TARGETS PASS" if passed else "SOME TARGETS FAIL (or scenarios missing)")
    memory_mb["before login, highest"] = max(before_login, default=0.0)
    write_results(options, ctx.ceiling_runs, rows, targets, memory_mb, passed, table)
    print(f"server logs: {log_dir}")
    if options.db == "postgres" and not options.keep_database:
        with app.app_context():
            dataset.db.engine.dispose()
        harness.drop_postgres_database(DATABASE_NAME)
    return 0 if passed else 1


def write_results(options, ceiling_runs, rows, targets, memory_mb, passed, table) -> None:
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_description(),
        "settings": {
            "database": options.db,
            "gunicorn": f"--workers {harness.GUNICORN_WORKERS} --worker-class sync",
            "wrk": f"-t1 -c{options.connections} -d{options.duration:g}s",
            "pairs_per_scenario": options.repeat,
            "products": options.product_sizes,
            "users": options.users,
        },
        "ceiling_rps_each_run": [round(c.rps, 1) for c in ceiling_runs],
        "results": [
            {
                "scenario": r.scenario,
                "products": r.products,
                "rps": round(r.rps, 1),
                "p50_ms": round(r.p50_ms, 2),
                "p99_ms": round(r.p99_ms, 2),
                "errors": r.errors,
                "error_detail": r.error_detail,
                "worker_cpu_ms_per_request": round(r.cpu_ms, 3) if r.cpu_ms is not None else None,
                "adjacent_ceiling_rps": round(r.ceiling_rps, 1),
                "ratio_to_ceiling": round(r.ratio, 3) if r.ratio is not None else None,
                "target": r.target,
                "verdict": r.verdict,
                "note": r.note,
                "reported_apart": r.apart,
            }
            for r in rows
        ],
        "peak_rss_mb": {k: round(v, 1) for k, v in memory_mb.items()},
        "targets": targets,
        "passed": passed,
        "table": table.splitlines(),
    }
    options.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {options.output}")


if __name__ == "__main__":
    sys.exit(main())
