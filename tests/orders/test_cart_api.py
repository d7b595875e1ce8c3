"""The cart over HTTP: adding, setting, removing, and the arithmetic a buyer sees."""

from __future__ import annotations

import pytest

from storefront.testing.factories import UserFactory


def add(client, product, quantity=1):
    return client.post("/api/cart/items", json={"product_id": product.id, "quantity": quantity})


def test_a_new_cart_is_empty(client, shopper):
    response = client.get("/api/cart")
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total_cents": 0, "currency": "EUR"}


def test_cart_arithmetic(client, shopper, product_factory):
    mug = product_factory(name="Mug", price_cents=899)
    tea = product_factory(name="Tea", price_cents=250)

    add(client, mug, 2)
    add(client, tea, 3)
    response = add(client, mug, 1)

    assert response.status_code == 200
    body = response.get_json()
    assert body["items"] == [
        {
            "product_id": mug.id,
            "name": "Mug",
            "quantity": 3,
            "unit_price_cents": 899,
            "line_total_cents": 2697,
        },
        {
            "product_id": tea.id,
            "name": "Tea",
            "quantity": 3,
            "unit_price_cents": 250,
            "line_total_cents": 750,
        },
    ]
    assert body["total_cents"] == 3447
    assert client.get("/api/cart").get_json() == body


def test_the_cart_follows_current_prices(client, shopper, product_factory, db):
    mug = product_factory(price_cents=500)
    add(client, mug, 2)
    mug.price_cents = 700
    db.session.commit()
    body = client.get("/api/cart").get_json()
    assert (body["items"][0]["line_total_cents"], body["total_cents"]) == (1400, 1400)


def test_the_cart_survives_logout_and_login(client, user, product_factory):
    mug = product_factory()
    client.post("/api/login", json={"username": user.username, "password": user.password})
    add(client, mug, 2)
    client.post("/api/logout")
    assert client.get("/api/cart").status_code == 401
    client.post("/api/login", json={"username": user.username, "password": user.password})
    assert client.get("/api/cart").get_json()["items"][0]["quantity"] == 2


def test_cart_lines_are_listed_in_the_order_they_were_added(client, shopper, product_factory):
    first, second = product_factory(), product_factory()
    add(client, second)
    add(client, first)

    items = client.get("/api/cart").get_json()["items"]

    assert [line["product_id"] for line in items] == [second.id, first.id]


def test_a_line_of_a_product_taken_off_sale_cannot_be_changed(client, shopper, product_factory, db):
    mug = product_factory()
    add(client, mug, 2)
    mug.active = False
    db.session.commit()

    response = client.patch(f"/api/cart/items/{mug.id}", json={"quantity": 1})

    assert response.status_code == 404
    assert client.get("/api/cart").get_json()["items"][0]["quantity"] == 2


def test_each_user_has_their_own_cart(client, login_as, product_factory):
    mug = product_factory()
    login_as(client, UserFactory())
    add(client, mug, 2)
    login_as(client, UserFactory())
    assert client.get("/api/cart").get_json()["items"] == []


def test_set_quantity_and_zero_removes(client, shopper, product_factory):
    mug = product_factory(price_cents=100)
    add(client, mug, 1)

    response = client.patch(f"/api/cart/items/{mug.id}", json={"quantity": 5})
    assert response.status_code == 200
    assert response.get_json()["total_cents"] == 500

    response = client.patch(f"/api/cart/items/{mug.id}", json={"quantity": 0})
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_remove_a_line(client, shopper, product_factory):
    mug, tea = product_factory.create_batch(2)
    add(client, mug)
    add(client, tea)

    response = client.delete(f"/api/cart/items/{mug.id}")

    assert response.status_code == 200
    assert [i["product_id"] for i in response.get_json()["items"]] == [tea.id]


def test_removing_or_setting_a_line_not_in_the_cart_is_404(client, shopper, product_factory):
    mug = product_factory()
    assert client.delete(f"/api/cart/items/{mug.id}").status_code == 404
    assert client.patch(f"/api/cart/items/{mug.id}", json={"quantity": 2}).status_code == 404
    assert client.delete("/api/cart/items/987654").status_code == 404


def test_unknown_or_inactive_products_are_404(client, shopper, product_factory):
    hidden = product_factory(active=False)
    response = client.post("/api/cart/items", json={"product_id": 987654, "quantity": 1})
    assert response.status_code == 404
    assert add(client, hidden).status_code == 404
    assert client.get("/api/cart").get_json()["items"] == []


def test_more_than_the_stock_is_409(client, shopper, product_factory):
    mug = product_factory(stock=3)
    response = add(client, mug, 4)
    assert response.status_code == 409
    assert response.get_json()["items"][0]["available"] == 3

    add(client, mug, 3)
    assert add(client, mug, 1).status_code == 409
    assert client.patch(f"/api/cart/items/{mug.id}", json={"quantity": 4}).status_code == 409
    assert client.get("/api/cart").get_json()["items"][0]["quantity"] == 3


@pytest.mark.parametrize("quantity", [0, -1, 1000, True, 1.5, "2", None])
def test_quantity_must_be_an_integer_from_1_to_999(client, shopper, product_factory, quantity):
    mug = product_factory(stock=5000)
    response = client.post("/api/cart/items", json={"product_id": mug.id, "quantity": quantity})
    assert response.status_code == 400
    assert "quantity" in response.get_json()["fields"]


@pytest.mark.parametrize("quantity", [-1, 1000, False, "0"])
def test_set_quantity_must_be_an_integer_from_0_to_999(client, shopper, product_factory, quantity):
    mug = product_factory()
    add(client, mug)
    response = client.patch(f"/api/cart/items/{mug.id}", json={"quantity": quantity})
    assert response.status_code == 400


def test_a_line_holds_at_most_999(client, shopper, product_factory):
    mug = product_factory(stock=5000)
    add(client, mug, 999)
    response = add(client, mug, 1)
    assert response.status_code == 400
    assert client.get("/api/cart").get_json()["items"][0]["quantity"] == 999


def test_adding_a_valid_quantity_beyond_the_stock_is_409_even_past_999(
    client, shopper, product_factory
):
    # The request's quantity is one API.md allows (1 to 999); what is wrong is the stock.
    mug = product_factory(stock=3)
    add(client, mug, 2)
    response = add(client, mug, 999)
    assert response.status_code == 409
    assert response.get_json()["items"][0]["available"] == 3
    assert client.get("/api/cart").get_json()["items"][0]["quantity"] == 2


@pytest.mark.parametrize(
    "body",
    [{}, {"product_id": 1}, {"quantity": 1}, {"product_id": "1", "quantity": 1}, {"x": 1}],
)
def test_malformed_cart_bodies_are_400(client, shopper, body):
    assert client.post("/api/cart/items", json=body).status_code == 400


def test_a_non_json_body_is_refused(client, shopper):
    response = client.post("/api/cart/items", data="product_id=1", content_type="text/plain")
    assert response.status_code == 415


def test_the_cart_needs_a_login(client, product_factory):
    mug = product_factory()
    assert client.get("/api/cart").status_code == 401
    assert add(client, mug).status_code == 401


def test_cart_view_runs_a_constant_number_of_queries(
    client, shopper, product_factory, assert_max_queries
):
    for product in product_factory.create_batch(2):
        add(client, product)
    with assert_max_queries(10) as small:
        assert len(client.get("/api/cart").get_json()["items"]) == 2
    for product in product_factory.create_batch(25):
        add(client, product)
    with assert_max_queries(len(small)) as large:
        assert len(client.get("/api/cart").get_json()["items"]) == 27
    assert len(large) == len(small)
