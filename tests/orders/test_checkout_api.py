"""Checkout over HTTP: one transaction, prices frozen, stock taken once, retries safe."""

from __future__ import annotations

from sqlalchemy import func, select

from storefront.catalog.models import Product
from storefront.orders.models import CartItem, Order


def stock_of(db, product) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def order_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def test_checkout_places_the_order_takes_stock_and_empties_the_cart(
    client, db, shopper, product_factory, fill_cart
):
    mug = product_factory(name="Mug", sku="MUG", price_cents=899, stock=5)
    tea = product_factory(name="Tea", sku="TEA", price_cents=250, stock=10)
    fill_cart({mug: 2, tea: 3})

    response = client.post("/api/cart/checkout")

    assert response.status_code == 201
    order = response.get_json()
    assert response.headers["Location"].endswith(f"/api/orders/{order['id']}")
    assert order["status"] == "placed"
    assert order["total_cents"] == 2 * 899 + 3 * 250
    assert order["currency"] == "EUR"
    assert set(order) == {"id", "status", "items", "total_cents", "currency", "created_at"}
    assert client.get("/api/orders").get_json()[0]["id"] == order["id"]
    assert order["created_at"].endswith("Z")
    assert [(i["sku"], i["quantity"], i["unit_price_cents"]) for i in order["items"]] == [
        ("MUG", 2, 899),
        ("TEA", 3, 250),
    ]
    assert [i["line_total_cents"] for i in order["items"]] == [1798, 750]
    assert (stock_of(db, mug), stock_of(db, tea)) == (3, 7)
    assert client.get("/api/cart").get_json()["items"] == []
    assert db.session.scalar(select(Order.total_cents).where(Order.id == order["id"])) == 2548


def test_the_order_keeps_the_price_paid(client, db, shopper, product_factory, place_order):
    mug = product_factory(price_cents=500)
    order = place_order({mug: 1})
    mug.price_cents = 900
    mug.name = "Renamed mug"
    db.session.commit()
    again = client.get(f"/api/orders/{order['id']}").get_json()
    assert (again["total_cents"], again["items"][0]["unit_price_cents"]) == (500, 500)
    assert again["items"][0]["name"] == order["items"][0]["name"]


def test_an_empty_cart_cannot_be_checked_out(client, db, shopper):
    response = client.post("/api/cart/checkout")
    assert response.status_code == 400
    assert "empty" in response.get_json()["error"]
    assert order_count(db) == 0


def test_short_stock_is_409_naming_the_lines_and_nothing_changes(
    client, db, shopper, product_factory, fill_cart
):
    plenty = product_factory(name="Plenty", stock=10)
    scarce = product_factory(name="Scarce", stock=2)
    fill_cart({plenty: 3, scarce: 2})
    scarce.stock = 1  # someone else bought one meanwhile
    db.session.commit()

    response = client.post("/api/cart/checkout")

    assert response.status_code == 409
    body = response.get_json()
    assert body["items"] == [
        {"product_id": scarce.id, "name": "Scarce", "requested": 2, "available": 1}
    ]
    assert "Scarce" in body["error"]
    assert (stock_of(db, plenty), stock_of(db, scarce)) == (10, 1)
    assert order_count(db) == 0
    assert len(client.get("/api/cart").get_json()["items"]) == 2


def test_a_product_withdrawn_after_it_was_carted_is_409(
    client, db, shopper, product_factory, fill_cart
):
    mug = product_factory(name="Mug", stock=5)
    lamp = product_factory(name="Lamp", stock=1)
    fill_cart({mug: 1, lamp: 1})
    mug.active = False
    lamp.stock = 0
    db.session.commit()

    response = client.post("/api/cart/checkout")

    assert response.status_code == 409
    body = response.get_json()
    assert [line["available"] for line in body["items"]] == [0, 0]
    assert body["error"] == "Not enough stock for: Lamp. No longer on sale: Mug."
    assert stock_of(db, mug) == 5


def test_a_retry_with_the_same_key_returns_the_first_order(
    client, db, shopper, product_factory, place_order
):
    mug = product_factory(stock=5)
    first = place_order({mug: 2}, key="checkout-1")

    retry = client.post("/api/cart/checkout", headers={"Idempotency-Key": "checkout-1"})

    assert retry.status_code == 201
    assert retry.get_json()["id"] == first["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert stock_of(db, mug) == 3
    assert order_count(db) == 1


def test_a_retry_after_refilling_the_cart_still_returns_the_first_order(
    client, db, shopper, product_factory, fill_cart, place_order
):
    mug = product_factory(stock=5)
    first = place_order({mug: 1}, key="same")
    fill_cart({mug: 1})

    retry = client.post("/api/cart/checkout", headers={"Idempotency-Key": "same"})

    assert retry.get_json()["id"] == first["id"]
    assert stock_of(db, mug) == 4
    assert len(client.get("/api/cart").get_json()["items"]) == 1


def test_keys_belong_to_one_user(client, db, login_as, user_factory, product_factory, place_order):
    mug = product_factory(stock=5)
    login_as(client, user_factory())
    first = place_order({mug: 1}, key="shared-key")
    login_as(client, user_factory())
    second = place_order({mug: 1}, key="shared-key")
    assert first["id"] != second["id"]
    assert stock_of(db, mug) == 3


def test_a_new_key_places_a_new_order(client, db, shopper, product_factory, place_order):
    mug = product_factory(stock=5)
    first = place_order({mug: 1}, key="one")
    second = place_order({mug: 1}, key="two")
    assert first["id"] != second["id"]
    assert stock_of(db, mug) == 3


def test_a_bad_idempotency_key_is_400(client, db, shopper, product_factory, fill_cart):
    mug = product_factory(stock=5)
    fill_cart({mug: 1})
    for key in ("", "k" * 256, "caf\u00e9", "tab\there"):
        response = client.post("/api/cart/checkout", headers={"Idempotency-Key": key})
        assert response.status_code == 400, key
        assert response.get_json()["fields"] == {
            "Idempotency-Key": "must be 1 to 255 printable ASCII characters"
        }
    assert stock_of(db, mug) == 5
    assert db.session.scalar(select(func.count()).select_from(CartItem)) == 1
    longest = client.post("/api/cart/checkout", headers={"Idempotency-Key": "k" * 255})
    assert longest.status_code == 201


def test_one_shoppers_checkout_leaves_another_shoppers_cart_alone(
    client, login_as, user_factory, product_factory, fill_cart
):
    mug = product_factory(stock=10)
    other = user_factory()
    login_as(client, other)
    fill_cart({mug: 2})
    login_as(client, user_factory())
    fill_cart({mug: 1})

    assert client.post("/api/cart/checkout").status_code == 201

    login_as(client, other)
    assert [line["quantity"] for line in client.get("/api/cart").get_json()["items"]] == [2]


def test_checkout_needs_a_login(client):
    assert client.post("/api/cart/checkout").status_code == 401


def test_losing_the_key_race_returns_the_winners_order(
    client, db, shopper, product_factory, fill_cart, place_order, checked_too_early
):
    """The unique key constraint, not the look-up, is what finally stops a second order."""
    mug = product_factory(stock=5)
    first = place_order({mug: 1}, key="raced")
    fill_cart({mug: 1})
    checked_too_early("storefront.orders.service._order_for_key")

    retry = client.post("/api/cart/checkout", headers={"Idempotency-Key": "raced"})

    assert retry.status_code == 201
    assert retry.get_json()["id"] == first["id"]
    assert stock_of(db, mug) == 4
    assert order_count(db) == 1
    assert len(client.get("/api/cart").get_json()["items"]) == 1


def test_a_locked_database_is_a_503_to_retry_not_a_500(
    client, db, shopper, product_factory, fill_cart, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from storefront.orders import service

    mug = product_factory(stock=5)
    fill_cart({mug: 1})

    def locked(items):
        raise OperationalError("UPDATE products", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "_take_stock", locked)  # SQLite still busy after its timeout
    response = client.post("/api/cart/checkout")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "busy" in response.get_json()["error"]
    assert stock_of(db, mug) == 5


def test_the_idempotency_key_is_documented_in_the_openapi_spec(client):
    spec = client.get("/api/openapi.json").get_json()
    parameters = spec["paths"]["/api/cart/checkout"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters)
