"""The benchmark's dataset, written with bulk inserts so even 100 000 products take seconds.

Rows go in through SQLAlchemy Core `insert()` with many parameter sets at once (batched
multi-row INSERTs), using the shop's own table definitions, so column defaults apply and
the data always fits the migrated schema.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from storefront import create_app
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


def bulk_insert(
    table_name: str, count: int, make_row: Callable[[int], dict[str, Any]]
) -> tuple[int, int]:
    """Insert `count` rows `make_row(n)` in batches; returns the first and last new id.

    `n` runs on from the table's highest id, so names made from it stay unique.
    """
    table = db.metadata.tables[table_name]
    with db.engine.begin() as conn:
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


def analyze() -> None:
    """Refresh the planner's statistics after a bulk load, as a deploy script would."""
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def log_in_directly(app: Flask, user_ids: list[int]) -> list[str]:
    """A live session per user, made the way tests do (`session_transaction`), skipping argon2.

    Returns `name=value` cookie strings. The sessions land in the app's real session store
    (the database, or Redis with `REDIS_URL`), so the served shop accepts them.
    """
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    cookies = []
    for user_id in user_ids:
        client = app.test_client()
        with client.session_transaction() as session:
            session["user_id"] = user_id
        cookie = client.get_cookie(cookie_name)
        if cookie is None:
            raise RuntimeError("the session store set no cookie")
        cookies.append(f"{cookie_name}={cookie.value}")
    return cookies


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
    with db.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == product_id).values(stock=stock))
