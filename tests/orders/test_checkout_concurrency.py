"""Checkout under real concurrency: threads, a real HTTP client, the live server's database.

Each buyer fires at the same moment (a barrier releases them together). The live app's
connection pool (SQLAlchemy's default 5 + 10 overflow) is at least as large as the number
of threads, so the race is decided by the database, not by waiting for a connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from live import add_to_cart, all_at_once, checkout_call, logged_in_session
from storefront import create_app
from storefront.catalog.models import Product
from storefront.extensions import db
from storefront.orders.models import Order
from storefront.testing.factories import ProductFactory, UserFactory

BUYERS = 10


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
        product = ProductFactory(stock=1)
        product_id, name = product.id, product.name
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
            "name": name,
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


def test_a_price_change_during_checkout_is_paid_if_the_stock_was_taken_after_it(live_server):
    """Stock reset to 50 by the same change tells which came first: 50 left means before."""
    with live_server.app.app_context():
        buyer_id, staff_id = UserFactory().id, UserFactory(role="staff").id
    buyer, staff = (logged_in_session(live_server, i) for i in (buyer_id, staff_id))
    assert staff.get(f"{live_server.url}/api/me", timeout=30).status_code == 200
    for _ in range(8):
        with live_server.app.app_context():
            product_id = ProductFactory(stock=100, price_cents=1000).id
        add_to_cart(live_server, buyer, product_id, 1)
        url = f"{live_server.url}/api/products/{product_id}"

        order, changed = all_at_once(
            [
                checkout_call(live_server, buyer),
                lambda url=url: staff.patch(
                    url, json={"price_cents": 2000, "stock": 50}, timeout=30
                ),
            ]
        )

        assert (order.status_code, changed.status_code) == (201, 200), order.text
        stock, _orders = database_state(live_server, product_id)
        assert (order.json()["total_cents"], stock) in {(1000, 50), (2000, 49)}


def test_cancels_and_checkouts_of_the_same_products_never_deadlock(live_server):
    """Cancels give back the products of orders whose lines were added in the opposite order
    to the carts being checked out at the same moment: both must take the rows in one order,
    or PostgreSQL breaks the circle by failing one of them (a 503)."""
    pairs = BUYERS // 2
    with live_server.app.app_context():
        first, second = (ProductFactory(stock=100).id for _ in range(2))
        buyer_ids = [buyer.id for buyer in UserFactory.create_batch(2 * pairs)]
    sessions = [logged_in_session(live_server, buyer_id) for buyer_id in buyer_ids]
    cancellers, checkers = sessions[:pairs], sessions[pairs:]
    for rounds in range(3):
        cancels = []
        for session in cancellers:
            for product_id in (second, first):
                add_to_cart(live_server, session, product_id, 1)
            order = checkout_call(live_server, session)().json()
            url = f"{live_server.url}/api/orders/{order['id']}/cancel"
            cancels.append(lambda session=session, url=url: session.post(url, timeout=30))
        for session in checkers:
            for product_id in (first, second):
                add_to_cart(live_server, session, product_id, 1)

        responses = all_at_once(cancels + [checkout_call(live_server, s) for s in checkers])

        statuses = [r.status_code for r in responses]
        assert statuses == [200] * pairs + [201] * pairs, (rounds, statuses)


def test_an_app_on_in_memory_sqlite_places_one_order_for_the_last_unit(own_apps):
    """`DATABASE=":memory:"`, as Flask's tutorial allows: requests at once still stay apart.

    In memory, every thread used to share one connection, and so each other's transactions:
    the ten buyers got 409s and 503s, and no order was placed.
    """
    memory = create_app({"TESTING": True, "DATABASE": ":memory:", "RATELIMIT_ENABLED": False})
    assert memory.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with memory.app_context():
        product_id = ProductFactory(stock=1).id
        buyer_ids = [buyer.id for buyer in UserFactory.create_batch(BUYERS)]
    clients = [memory.test_client() for _ in buyer_ids]
    for client, buyer_id in zip(clients, buyer_ids, strict=True):
        with client.session_transaction() as session:
            session["user_id"] = buyer_id
        line = {"product_id": product_id, "quantity": 1}
        assert client.post("/api/cart/items", json=line).status_code == 200

    responses = all_at_once([lambda c=c: c.post("/api/cart/checkout") for c in clients])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (BUYERS - 1), [r.get_json() for r in responses]
    assert memory.test_client().get(f"/api/products/{product_id}").get_json()["stock"] == 0
