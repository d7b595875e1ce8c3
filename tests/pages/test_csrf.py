"""Every form a page posts is refused without the page's CSRF token, and changes nothing."""

from __future__ import annotations

import re

import pytest

#: Every page route that takes a POST, with the ids its path needs.
POSTED_PAGES = [
    "/account/email",
    "/account/password",
    "/account/sessions/{session_id}/end",
    "/account/sessions/end-others",
    "/cart/add/{product_id}",
    "/cart/items/{product_id}",
    "/cart/items/{product_id}/remove",
    "/checkout",
    "/confirm/resend",
    "/form",
    "/login",
    "/logout",
    "/orders/{order_id}/cancel",
    "/register",
    "/reset",
    "/reset/{token}",
    "/staff/products/{product_id}/edit",
    "/staff/products/new",
]

EXPIRED = "This form has expired or did not come from this site."


def test_the_list_holds_every_page_route_that_takes_a_post(app):
    posted = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api")
    }
    assert posted == set(POSTED_PAGES)


@pytest.fixture
def shop_state(client, staff, login_as, product_factory):
    """A staff member with an order, a cart line and a session, logged in on `client`."""
    login_as(client, staff)
    ordered, in_cart = product_factory(stock=5), product_factory(stock=5)
    client.post("/api/cart/items", json={"product_id": ordered.id, "quantity": 1})
    order = client.post("/api/cart/checkout").get_json()
    client.post("/api/cart/items", json={"product_id": in_cart.id, "quantity": 2})
    (session,) = client.get("/api/me/sessions").get_json()
    return {
        "values": {
            "session_id": session["id"],
            "product_id": in_cart.id,
            "order_id": order["id"],
            "token": "a-token",
        },
        "seen": lambda: (
            client.get("/api/me").get_json(),
            client.get("/api/cart").get_json(),
            client.get(f"/api/orders/{order['id']}").get_json()["status"],
            client.get(f"/api/products/{in_cart.id}").get_json(),
        ),
    }


@pytest.mark.parametrize("token", [None, "forged"], ids=["no token", "forged token"])
@pytest.mark.parametrize("path", POSTED_PAGES)
def test_a_post_without_the_pages_token_is_a_400_and_changes_nothing(
    client, shop_state, path, token
):
    before = shop_state["seen"]()
    form = {
        "email": "moved@example.com",
        "password": "a-new-long-password",
        "current_password": "whatever",
        "quantity": "1",
        "name": "Renamed",
        "sku": "NEW-1",
        "price": "1.00",
        "stock": "1",
        "username": "someone",
        "message": "hello",
    }
    if token is not None:
        form["csrf_token"] = token

    response = client.post(path.format(**shop_state["values"]), data=form)

    if path == "/login":  # a stale login form of someone logged in meanwhile goes on
        assert response.status_code == 303
    else:
        assert response.status_code == 400
        assert EXPIRED in response.get_data(as_text=True)
    assert shop_state["seen"]() == before
