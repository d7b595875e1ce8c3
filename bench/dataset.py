"""The benchmark's dataset, written with bulk inserts so even 100 000 products take seconds.

Rows go in through SQLAlchemy Core `insert()` with many parameter sets at once (batched
multi-row INSERTs), using the shop's own table definitions, so column defaults apply and
the data always fits the migrated schema.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Connection, func, select, text

from storefront import create_app, sessions
from storefront.accounts.service import hash_password
from storefront.extensions import db, utcnow

USERNAME_PATTERN = "bench%d"
PASSWORD = "bench-password-of-every-user"  # noqa: S105 - a benchmark fixture, not a secret
WORDS = (
    "amber", "basalt", "cedar", "denim", "ember", "fjord", "granite", "harbor", "indigo",
    "juniper", "kelp", "linen", "maple", "nickel", "ochre", "pewter", "quartz", "russet",
    "saffron", "teak", "umber", "velvet", "walnut", "yarrow", "zinc",
)  # fmt: skip
#: The word `GET /api/products?q=` looks for; one product name in twenty holds it.
SEARCH_WORD = "lantern"
CHUNK = 5000


def shop_app(database_url: str, secret_key: str, **overrides: Any) -> Flask:
    """An in-process app on the benchmark database, for migrations, data and sessions."""
    config = {
        "STOREFRONT_ENV": "production",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    return create_app(config)


def migrate(app: Flask) -> None:
    """Create the schema exactly as production does: by running every migration."""
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def writing() -> Iterator[Connection]:
    """A transaction holding the write lock from its start (BEGIN IMMEDIATE on SQLite).

    The served shop may still be writing when data is added between scenarios; on SQLite a
    transaction that read first would then fail at once instead of waiting its turn.
    """
    with db.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        yield conn


def bulk_insert(
    table_name: str, count: int, make_row: Callable[[int], dict[str, Any]]
) -> tuple[int, int]:
    """Insert `count` rows `make_row(n)` in batches; returns the first and last new id.

    `n` runs on from the table's highest id, so names made from it stay unique.
    """
    table = db.metadata.tables[table_name]
    with writing() as conn:
        before = conn.scalar(select(func.max(table.c.id))) or 0
        numbers = range(before + 1, before + 1 + count)
        for batch in _chunks(make_row(n) for n in numbers):
            conn.execute(table.insert(), batch)
        first, last = conn.execute(
            select(func.min(table.c.id), func.max(table.c.id)).where(table.c.id > before)
        ).one()
    return first, last


def add_users(count: int, password: str = PASSWORD) -> tuple[int, int]:
    """`count` confirmed customers `bench<n>` sharing one password hash (the app's cost).

    Returns the first and last user id. One hash for all keeps generation fast; every
    login still pays a full argon2 verify.
    """
    password_hash = hash_password(password)
    now = utcnow()
    return bulk_insert(
        "users",
        count,
        lambda n: {
            "username": USERNAME_PATTERN % n,
            "email": f"bench{n}@bench.invalid",
            "password_hash": password_hash,
            "role": "customer",
            "confirmed": True,
            "created_at": now,
            "updated_at": now,
        },
    )


def product_name(rng: random.Random, n: int) -> str:
    """A made-up product name; every twentieth holds `SEARCH_WORD`."""
    words = rng.sample(WORDS, 2)
    if n % 20 == 0:
        words.insert(1, SEARCH_WORD)
    return " ".join(words).title() + f" {n}"


def vacuum_analyze() -> None:
    """PostgreSQL: VACUUM ANALYZE after a bulk load, as a deploy script (or autovacuum) would.

    Without it the planner has no statistics yet and autovacuum starts in the middle of
    the measurements.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def log_in_directly(app: Flask, user_ids: list[int]) -> list[str]:
    """A live, registered session per user, written straight into the stores (no argon2).

    What `/api/login` leaves behind, made in bulk: the session data (`user_id`, marked as
    registered) in the app's session store — one bulk insert for the database store,
    Flask-Session's own write per session for Redis — and a `user_sessions` row each.
    Returns `name=value` cookies.
    """
    interface = app.session_interface
    lifetime = app.permanent_session_lifetime
    made = []
    for user_id in user_ids:
        sid = interface._generate_sid(interface.sid_length)
        data = {sessions.USER_KEY: user_id, sessions.REGISTERED_KEY: True}
        made.append((sid, interface.session_class(data, sid=sid, permanent=True)))
    now = utcnow()
    with app.app_context():
        if isinstance(interface, sessions.DatabaseSessionInterface):
            insert_rows(
                sessions.StoredSession.__tablename__,
                (
                    {
                        "session_id": interface._get_store_id(sid),
                        "data": interface.serializer.encode(session),
                        "expiry": now + lifetime,
                    }
                    for sid, session in made
                ),
            )
        else:
            for sid, session in made:
                interface._upsert_session(lifetime, session, interface._get_store_id(sid))
        insert_rows(
            sessions.UserSession.__tablename__,
            (
                {
                    "user_id": session[sessions.USER_KEY],
                    "sid_hash": sessions._sid_hash(sid),
                    "user_agent": "wrk",
                    "created_at": now,
                    "last_seen_at": now,
                }
                for sid, session in made
            ),
        )
    name = app.config["SESSION_COOKIE_NAME"]
    return [
        f"{name}={interface._sign(app, sid) if interface.use_signer else sid}" for sid, _ in made
    ]


def add_products(count: int) -> tuple[int, int]:
    """Add `count` active products with ample stock; returns the first and last id."""
    rng = random.Random(count)
    now = utcnow()
    return bulk_insert(
        "products",
        count,
        lambda n: {
            "sku": f"BENCH-{n:07d}",
            "name": product_name(rng, n),
            "description": f"Benchmark product number {n}.",
            "price_cents": rng.randrange(100, 100_000),
            "currency": "EUR",
            "stock": 1_000_000,
            "active": True,
            "created_at": now,
            "updated_at": now,
        },
    )


def set_stock(product_id: int, stock: int) -> None:
    """Leave exactly `stock` units of one product."""
    table = db.metadata.tables["products"]
    with writing() as conn:
        conn.execute(table.update().where(table.c.id == product_id).values(stock=stock))


def insert_rows(table_name: str, rows: Iterator[dict[str, Any]]) -> None:
    """Insert rows in batches into a table whose rows need no ids back."""
    table = db.metadata.tables[table_name]
    with writing() as conn:
        for batch in _chunks(rows):
            conn.execute(table.insert(), batch)


def fill_carts(user_ids: list[int], products: tuple[int, int], lines: int = 3) -> None:
    """Put `lines` different products, one of each, into every given user's cart."""
    rng = random.Random(len(user_ids))
    now = utcnow()
    first, last = products
    insert_rows(
        "cart_items",
        (
            {"user_id": user_id, "product_id": product_id, "quantity": 1, "added_at": now}
            for user_id in user_ids
            for product_id in rng.sample(range(first, last + 1), lines)
        ),
    )


def add_orders(user_ids: list[int], products: tuple[int, int], per_user: int = 2) -> int:
    """Past orders of two lines each for every given user; returns how many were placed."""
    table = db.metadata.tables["products"]
    with db.engine.connect() as conn:
        catalogue = conn.execute(
            select(table.c.id, table.c.sku, table.c.name, table.c.price_cents)
            .where(table.c.id.between(*products))
            .limit(1000)
        ).all()
    rng = random.Random(len(user_ids))
    now = utcnow()
    baskets = [rng.sample(catalogue, 2) for _ in range(len(user_ids) * per_user)]
    buyers = [user_id for user_id in user_ids for _ in range(per_user)]
    first, _ = bulk_insert(
        "orders",
        len(baskets),
        lambda n: {
            "user_id": buyers[n % len(buyers)],
            "status": "placed",
            "total_cents": 0,
            "currency": "EUR",
            "created_at": now,
            "updated_at": now,
        },
    )
    insert_rows(
        "order_items",
        (
            {
                "order_id": first + index,
                "product_id": product.id,
                "sku": product.sku,
                "name": product.name,
                "quantity": 1,
                "unit_price_cents": product.price_cents,
                "line_total_cents": product.price_cents,
            }
            for index, basket in enumerate(baskets)
            for product in basket
        ),
    )
    orders = db.metadata.tables["orders"]
    items = db.metadata.tables["order_items"]
    totals = (
        select(func.sum(items.c.line_total_cents))
        .where(items.c.order_id == orders.c.id)
        .scalar_subquery()
    )
    with writing() as conn:
        conn.execute(orders.update().where(orders.c.id >= first).values(total_cents=totals))
    return len(baskets)
