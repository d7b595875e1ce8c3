"""Checkout under real concurrency: threads, a real HTTP client, the live server's database.

Each buyer fires at the same moment (a barrier releases them together). The live app's
connection pool (SQLAlchemy's default 5 + 10 overflow) is at least as large as the number
of threads, so the race is decided by the database, not by waiting for a connection.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import func, select

from storefront.catalog.models import Product
from storefront.extensions import db
from storefront.orders.models import Order
from storefront.testing.factories import ProductFactory, UserFactory

BUYERS = 10
TIMEOUT = 30


def logged_in_session(live_server: Any, user_id: int) -> requests.Session:
    """A `requests` session carrying a server-side session cookie for user `user_id`.

    The session is written through the live app (as `login_as` does), so the race does
    not depend on the login route or its rate limit.
    """
    client = live_server.app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    cookie = client.get_cookie(live_server.app.config["SESSION_COOKIE_NAME"])
    session = requests.Session()
    session.headers["Cookie"] = f"{cookie.key}={cookie.value}"
    return session


def add_to_cart(live_server: Any, session: requests.Session, product_id: int, n: int) -> None:
    response = session.post(
        f"{live_server.url}/api/cart/items",
        json={"product_id": product_id, "quantity": n},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text


def all_at_once(calls: list[Any]) -> list[requests.Response]:
    """Run every call in its own thread, released together; return the responses."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> requests.Response:
        barrier.wait(timeout=TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def checkout_call(live_server: Any, session: requests.Session, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    url = f"{live_server.url}/api/cart/checkout"
    return lambda: session.post(url, headers=headers, timeout=TIMEOUT)


def database_state(live_server: Any, product_id: int) -> tuple[int, int]:
    """(stock left, number of orders) as committed in the live server's database."""
    with live_server.app.app_context():
        stock = db.session.scalar(select(Product.stock).where(Product.id == product_id))
        orders = db.session.scalar(select(func.count()).select_from(Order))
        db.session.remove()
    return stock, orders


def test_the_pool_is_large_enough_for_the_race(live_server):
    with live_server.app.app_context():
        pool = db.engine.pool
        assert pool.size() + pool._max_overflow >= BUYERS


def test_ten_buyers_for_the_last_unit_one_order(live_server):
    with live_server.app.app_context():
        product_id = ProductFactory(stock=1).id
        buyer_ids = [buyer.id for buyer in UserFactory.create_batch(BUYERS)]
    sessions = [logged_in_session(live_server, buyer_id) for buyer_id in buyer_ids]
    for session in sessions:
        add_to_cart(live_server, session, product_id, 1)

    responses = all_at_once([checkout_call(live_server, s) for s in sessions])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (BUYERS - 1), [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["items"][0] == {
            "product_id": product_id,
            "name": refused.json()["items"][0]["name"],
            "requested": 1,
            "available": 0,
        }
    assert database_state(live_server, product_id) == (0, 1)


def test_ten_retries_with_one_key_place_one_order(live_server):
    with live_server.app.app_context():
        product_id = ProductFactory(stock=5).id
        buyer_id = UserFactory().id
    sessions = [logged_in_session(live_server, buyer_id) for _ in range(BUYERS)]
    add_to_cart(live_server, sessions[0], product_id, 1)

    responses = all_at_once([checkout_call(live_server, s, key="retry-me") for s in sessions])

    assert [r.status_code for r in responses] == [201] * BUYERS, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert database_state(live_server, product_id) == (4, 1)
