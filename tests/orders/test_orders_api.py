"""Orders over HTTP: listing, reading, cancelling, and what outlives products and users."""

from __future__ import annotations

from sqlalchemy import func, select

from storefront.catalog.models import Product
from storefront.orders.models import CartItem, Order


def stock_of(db, product) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def test_customers_list_their_own_orders_newest_first(
    client, login_as, user_factory, product_factory, place_order
):
    mug = product_factory(stock=100)
    login_as(client, user_factory())
    place_order({mug: 1})
    me = user_factory()
    login_as(client, me)
    first = place_order({mug: 1})
    second = place_order({mug: 2})

    response = client.get("/api/orders")

    assert response.status_code == 200
    assert [o["id"] for o in response.get_json()] == [second["id"], first["id"]]
    assert response.headers["X-Total-Count"] == "2"
    assert response.get_json()[0]["items"][0]["quantity"] == 2


def test_orders_placed_at_the_same_instant_list_the_later_one_first(
    client, db, shopper, product_factory, place_order
):
    mug = product_factory(stock=100)
    first, second = place_order({mug: 1}), place_order({mug: 1})
    same_moment = db.session.get(Order, first["id"]).created_at
    db.session.get(Order, second["id"]).created_at = same_moment
    db.session.commit()

    listed = [order["id"] for order in client.get("/api/orders").get_json()]

    assert listed == [second["id"], first["id"]]


def test_staff_and_admins_see_everyones_orders(
    client, login_as, user_factory, product_factory, place_order
):
    mug = product_factory(stock=100)
    for _ in range(3):
        login_as(client, user_factory())
        place_order({mug: 1})
    for role in ("staff", "admin"):
        login_as(client, user_factory(role=role))
        assert len(client.get("/api/orders").get_json()) == 3


def test_order_list_pages(client, shopper, product_factory, place_order):
    mug = product_factory(stock=100)
    for _ in range(3):
        place_order({mug: 1})
    response = client.get("/api/orders?per_page=2&page=2")
    assert len(response.get_json()) == 1
    assert 'rel="prev"' in response.headers["Link"]
    assert client.get("/api/orders?page=9").get_json() == []
    assert client.get("/api/orders?per_page=101").status_code == 400


def test_read_an_order(client, shopper, product_factory, place_order):
    mug = product_factory(price_cents=300)
    order = place_order({mug: 2})

    response = client.get(f"/api/orders/{order['id']}")

    assert response.status_code == 200
    body = response.get_json()
    assert {"id", "status", "items", "total_cents", "currency", "created_at"} <= set(body)
    assert (body["status"], body["total_cents"], body["currency"]) == ("placed", 600, "EUR")


def test_someone_elses_order_is_404_for_customers_but_not_for_staff(
    client, login_as, user_factory, product_factory, place_order
):
    mug = product_factory()
    login_as(client, user_factory())
    order = place_order({mug: 1})
    login_as(client, user_factory())
    assert client.get(f"/api/orders/{order['id']}").status_code == 404
    assert client.post(f"/api/orders/{order['id']}/cancel").status_code == 404
    login_as(client, user_factory(role="staff"))
    assert client.get(f"/api/orders/{order['id']}").status_code == 200


def test_an_unknown_order_is_404(client, shopper):
    assert client.get("/api/orders/123456").status_code == 404
    assert client.get(f"/api/orders/{2**63}").status_code == 404
    assert client.post("/api/orders/123456/cancel").status_code == 404


def test_cancel_returns_the_stock(client, db, shopper, product_factory, place_order):
    mug = product_factory(stock=5)
    tea = product_factory(stock=5)
    order = place_order({mug: 2, tea: 1})
    assert (stock_of(db, mug), stock_of(db, tea)) == (3, 4)

    response = client.post(f"/api/orders/{order['id']}/cancel")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert (stock_of(db, mug), stock_of(db, tea)) == (5, 5)
    assert client.get(f"/api/orders/{order['id']}").get_json()["status"] == "cancelled"


def test_a_cancelled_order_cannot_be_cancelled_again(
    client, db, shopper, product_factory, place_order
):
    mug = product_factory(stock=5)
    order = place_order({mug: 2})
    client.post(f"/api/orders/{order['id']}/cancel")

    response = client.post(f"/api/orders/{order['id']}/cancel")

    assert response.status_code == 409
    assert response.json == {
        "error": "This order is already cancelled.",
        "order_status": "cancelled",
    }
    assert stock_of(db, mug) == 5


def test_staff_can_cancel_any_order(
    client, db, login_as, user, staff, product_factory, place_order
):
    mug = product_factory(stock=5)
    login_as(client, user)
    order = place_order({mug: 1})
    login_as(client, staff)
    assert client.post(f"/api/orders/{order['id']}/cancel").status_code == 200
    assert stock_of(db, mug) == 5


def test_deleting_an_ordered_product_only_deactivates_it(
    client, login_as, user, staff, product_factory, place_order
):
    mug = product_factory(name="Ordered mug")
    login_as(client, user)
    order = place_order({mug: 1})
    login_as(client, staff)

    assert client.delete(f"/api/products/{mug.id}").status_code == 204

    assert client.get(f"/api/products/{mug.id}").get_json()["active"] is False
    login_as(client, user)
    assert client.get(f"/api/products/{mug.id}").status_code == 404
    assert client.get("/api/products").get_json() == []
    line = client.get(f"/api/orders/{order['id']}").get_json()["items"][0]
    assert (line["product_id"], line["name"]) == (mug.id, "Ordered mug")


def test_deleting_a_product_in_carts_removes_it_from_them(
    client, login_as, user, staff, product_factory, fill_cart
):
    mug = product_factory()
    login_as(client, user)
    fill_cart({mug: 1})
    login_as(client, staff)
    assert client.delete(f"/api/products/{mug.id}").status_code == 204
    login_as(client, user)
    assert client.get("/api/cart").get_json()["items"] == []


def test_deleting_a_user_keeps_their_orders_and_drops_their_cart(
    client, db, login_as, user, admin, product_factory, place_order, fill_cart
):
    mug = product_factory(stock=10)
    login_as(client, user)
    order = place_order({mug: 2})
    fill_cart({mug: 1})

    assert client.delete(f"/api/users/{user.id}").status_code == 204

    assert db.session.scalar(select(func.count()).select_from(CartItem)) == 0
    login_as(client, admin)
    kept = client.get(f"/api/orders/{order['id']}").get_json()
    assert kept["items"][0]["quantity"] == 2
    assert db.session.scalar(select(Order.user_id).where(Order.id == order["id"])) is None


def test_order_list_runs_a_constant_number_of_queries(
    client, shopper, product_factory, place_order, assert_max_queries
):
    products = product_factory.create_batch(3, stock=500)
    place_order(dict.fromkeys(products, 1))
    with assert_max_queries(10) as small:
        assert len(client.get("/api/orders").get_json()) == 1
    for _ in range(12):
        place_order(dict.fromkeys(products, 1))
    with assert_max_queries(len(small)) as large:
        assert len(client.get("/api/orders?per_page=100").get_json()) == 13
    assert len(large) == len(small)
