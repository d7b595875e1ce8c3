"""Cart changes racing each other, checkout and a product delete, on a real server.

On PostgreSQL these requests really run in parallel, so a cart change that reads a line
and writes it back without holding the cart loses updates or trips over a checkout, and
two writers taking locks in opposite orders deadlock. Each test repeats its race a few
times with fresh rows, since one round may happen to run in a harmless order.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from sqlalchemy import select

from live import TIMEOUT, add_to_cart, all_at_once, checkout_call, logged_in_session
from storefront.catalog import service as catalog_service
from storefront.catalog.models import Product
from storefront.extensions import db
from storefront.orders import service as orders_service
from storefront.testing.factories import ProductFactory, UserFactory

ROUNDS = 6
ADDERS = 8


def new_product(live_server: Any, **fields: Any) -> int:
    with live_server.app.app_context():
        return ProductFactory(**fields).id


def new_user(live_server: Any, **fields: Any) -> int:
    with live_server.app.app_context():
        return UserFactory(**fields).id


def product_row(live_server: Any, product_id: int) -> tuple[int, bool] | None:
    """(stock, active) of the product as committed, or None when it was erased."""
    with live_server.app.app_context():
        row = db.session.execute(
            select(Product.stock, Product.active).where(Product.id == product_id)
        ).one_or_none()
        db.session.remove()
    return None if row is None else tuple(row)


def cart_quantities(live_server: Any, session: requests.Session) -> dict[int, int]:
    response = session.get(f"{live_server.url}/api/cart", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return {line["product_id"]: line["quantity"] for line in response.json()["items"]}


def ordered_quantities(order: requests.Response) -> dict[int, int]:
    assert order.status_code == 201, order.text
    return {line["product_id"]: line["quantity"] for line in order.json()["items"]}


def add_call(live_server: Any, session: requests.Session, product_id: int, n: int = 1) -> Any:
    url = f"{live_server.url}/api/cart/items"
    body = {"product_id": product_id, "quantity": n}
    return lambda: session.post(url, json=body, timeout=TIMEOUT)


@pytest.mark.parametrize("already_in_cart", [1, 0], ids=["existing-line", "new-line"])
def test_parallel_adds_to_one_line_are_all_counted(live_server, already_in_cart):
    user_id = new_user(live_server)
    tabs = [logged_in_session(live_server, user_id) for _ in range(ADDERS)]
    for _ in range(ROUNDS):
        product_id = new_product(live_server, stock=100)
        if already_in_cart:
            add_to_cart(live_server, tabs[0], product_id, already_in_cart)

        responses = all_at_once([add_call(live_server, tab, product_id) for tab in tabs])

        assert [r.status_code for r in responses] == [200] * ADDERS, [r.text for r in responses]
        quantity = cart_quantities(live_server, tabs[0])[product_id]
        assert quantity == already_in_cart + ADDERS


def change_call(live_server: Any, session: requests.Session, change: str, product_id: int) -> Any:
    url = f"{live_server.url}/api/cart/items"
    if change == "add":
        return add_call(live_server, session, product_id)
    if change == "set":
        return lambda: session.patch(f"{url}/{product_id}", json={"quantity": 3}, timeout=TIMEOUT)
    return lambda: session.delete(f"{url}/{product_id}", timeout=TIMEOUT)


#: For a cart holding 2 of a product: what each change answers and leaves behind, when it
#: comes before the checkout and when it comes after:
#: (change's status, checkout's status, quantity ordered, quantity left in the cart).
OUTCOMES = {
    "add": {(200, 201, 3, 0), (200, 201, 2, 1)},
    "set": {(200, 201, 3, 0), (404, 201, 2, 0)},
    "remove": {(200, 400, 0, 0), (404, 201, 2, 0)},
}


@pytest.mark.parametrize("change", sorted(OUTCOMES))
def test_a_cart_change_racing_checkout_sees_the_cart_before_or_after_it(live_server, change):
    user_id = new_user(live_server)
    tab, other_tab = (logged_in_session(live_server, user_id) for _ in range(2))
    for _ in range(ROUNDS):
        product_id = new_product(live_server, stock=100)
        add_to_cart(live_server, tab, product_id, 2)

        changed, order = all_at_once(
            [
                change_call(live_server, tab, change, product_id),
                checkout_call(live_server, other_tab),
            ]
        )

        ordered = ordered_quantities(order).get(product_id, 0) if order.status_code == 201 else 0
        left = cart_quantities(live_server, tab).get(product_id, 0)
        outcome = (changed.status_code, order.status_code, ordered, left)
        assert outcome in OUTCOMES[change], (changed.text, order.text)
        assert product_row(live_server, product_id) == (100 - ordered, True)
        if left:
            tab.delete(f"{live_server.url}/api/cart/items/{product_id}", timeout=TIMEOUT)


def delete_call(live_server: Any, session: requests.Session, product_id: int) -> Any:
    url = f"{live_server.url}/api/products/{product_id}"
    return lambda: session.delete(url, timeout=TIMEOUT)


def test_deleting_a_product_while_it_is_checked_out_keeps_it_if_ordered(live_server):
    buyer = logged_in_session(live_server, new_user(live_server))
    staff = logged_in_session(live_server, new_user(live_server, role="staff"))
    for _ in range(ROUNDS):
        doomed, other = new_product(live_server, stock=5), new_product(live_server, stock=5)
        add_to_cart(live_server, buyer, doomed, 1)
        add_to_cart(live_server, buyer, other, 1)

        order, deleted = all_at_once(
            [checkout_call(live_server, buyer), delete_call(live_server, staff, doomed)]
        )

        assert deleted.status_code == 204, deleted.text
        ordered = ordered_quantities(order)
        assert ordered.get(other) == 1
        if doomed in ordered:
            assert product_row(live_server, doomed) == (4, False)
        else:
            assert product_row(live_server, doomed) is None


def test_a_product_deleted_while_it_is_added_to_a_cart_is_never_a_conflict(
    live_server, monkeypatch
):
    """The delete is sent while the add has read the product and not yet saved its line."""
    buyer = logged_in_session(live_server, new_user(live_server))
    staff = logged_in_session(live_server, new_user(live_server, role="staff"))
    product_id = new_product(live_server, stock=5)
    deletes: list[threading.Thread] = []
    answers: list[requests.Response] = []
    check_quantity = orders_service._check_quantity

    def delete_meanwhile(total: int) -> None:
        deletes.append(
            threading.Thread(
                target=lambda: answers.append(delete_call(live_server, staff, product_id)())
            )
        )
        deletes[0].start()
        deletes[0].join(timeout=0.5)  # done unless the add holds the product
        check_quantity(total)

    monkeypatch.setattr(orders_service, "_check_quantity", delete_meanwhile)
    added = add_call(live_server, buyer, product_id)()
    deletes[0].join(timeout=TIMEOUT)

    assert added.status_code == 200, added.text
    assert [answer.status_code for answer in answers] == [204]
    assert product_row(live_server, product_id) is None
    assert cart_quantities(live_server, buyer) == {}


def test_a_product_deleted_while_its_cart_line_grows_is_never_a_deadlock(live_server, monkeypatch):
    """The delete is sent once the add holds the product: it takes the product's cart lines
    first, so an add that took the product before its line would wait for it in a circle
    (PostgreSQL then fails one of them, a 503)."""
    buyer = logged_in_session(live_server, new_user(live_server))
    staff = logged_in_session(live_server, new_user(live_server, role="staff"))
    product_id = new_product(live_server, stock=5)
    add_call(live_server, buyer, product_id)()
    deletes: list[threading.Thread] = []
    answers: list[requests.Response] = []
    reference = catalog_service.product_to_reference

    def delete_meanwhile(product_id: int) -> Product:
        product = reference(product_id)
        deletes.append(
            threading.Thread(
                target=lambda: answers.append(delete_call(live_server, staff, product_id)())
            )
        )
        deletes[0].start()
        deletes[0].join(timeout=0.5)  # it waits for the add, which holds the product
        return product

    monkeypatch.setattr(catalog_service, "product_to_reference", delete_meanwhile)
    added = add_call(live_server, buyer, product_id)()
    deletes[0].join(timeout=TIMEOUT)

    assert added.status_code == 200, added.text
    assert [answer.status_code for answer in answers] == [204], answers[0].text
    assert product_row(live_server, product_id) is None
    assert cart_quantities(live_server, buyer) == {}


@pytest.mark.parametrize("change", ["add", "checkout"])
def test_a_cart_change_of_an_account_deleted_meanwhile_is_a_401(live_server, monkeypatch, change):
    """The account is deleted after the request logged its user in, before it holds the cart
    (on PostgreSQL; on SQLite the request's write lock may make the delete wait for it)."""
    user_id = new_user(live_server)
    buyer = logged_in_session(live_server, user_id)
    admin = logged_in_session(live_server, new_user(live_server, role="admin"))
    product_id = new_product(live_server, stock=5)
    if change == "checkout":
        add_to_cart(live_server, buyer, product_id, 1)
    deletes: list[threading.Thread] = []
    deleted: list[requests.Response] = []
    deleted_first: list[bool] = []
    hold_own_account = orders_service.hold_own_account

    def deleted_meanwhile(user: Any) -> None:
        url = f"{live_server.url}/api/users/{user_id}"
        deletes.append(
            threading.Thread(target=lambda: deleted.append(admin.delete(url, timeout=TIMEOUT)))
        )
        deletes[0].start()
        deletes[0].join(timeout=0.5)  # done unless this request holds the database
        try:  # which came first is what the hold found, however long the delete took
            hold_own_account(user)
        except Exception:
            deleted_first.append(True)
            raise
        deleted_first.append(False)

    monkeypatch.setattr(orders_service, "hold_own_account", deleted_meanwhile)
    if change == "add":
        answer = add_call(live_server, buyer, product_id)()
    else:
        answer = checkout_call(live_server, buyer)()
    deletes[0].join(timeout=TIMEOUT)

    assert [response.status_code for response in deleted] == [204]
    if deleted_first == [True]:
        assert answer.status_code == 401, answer.text
        assert answer.json() == {"error": "Log in first."}
    else:
        assert answer.status_code == {"add": 200, "checkout": 201}[change], answer.text
