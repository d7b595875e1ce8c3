"""Property: whatever a buyer does to the cart, it adds up, and checkout takes exactly it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storefront.catalog.models import Product
from storefront.testing.factories import ProductFactory, UserFactory

PRICES = (0, 1, 250, 899, 99_999)
STOCK = 20

actions = st.lists(
    st.tuples(
        st.sampled_from(["add", "set", "remove"]),
        st.integers(min_value=0, max_value=len(PRICES) - 1),
        st.integers(min_value=0, max_value=25),
    ),
    max_size=12,
)


def apply(client, model: dict[int, int], action: str, product: Product, quantity: int) -> None:
    """Do `action` over HTTP and to `model`, checking the status the rules call for."""
    have = model.get(product.id, 0)
    if action == "add":
        response = client.post(
            "/api/cart/items", json={"product_id": product.id, "quantity": quantity}
        )
        expected = 400 if quantity == 0 else 409 if have + quantity > STOCK else 200
        if expected == 200:
            model[product.id] = have + quantity
    elif action == "set":
        response = client.patch(f"/api/cart/items/{product.id}", json={"quantity": quantity})
        expected = 404 if not have else 409 if quantity > STOCK else 200
        if expected == 200:
            model[product.id] = quantity
            if quantity == 0:
                del model[product.id]
    else:
        response = client.delete(f"/api/cart/items/{product.id}")
        expected = 200 if have else 404
        model.pop(product.id, None)
    assert response.status_code == expected, (action, quantity, response.get_json())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=actions)
def test_cart_and_checkout_agree_with_a_simple_model(client, db, login_as, steps):
    login_as(client, UserFactory())
    products = [ProductFactory(price_cents=price, stock=STOCK) for price in PRICES]
    model: dict[int, int] = {}
    for action, index, quantity in steps:
        apply(client, model, action, products[index], quantity)

    cart = client.get("/api/cart").get_json()
    assert {line["product_id"]: line["quantity"] for line in cart["items"]} == model
    price = {p.id: p.price_cents for p in products}
    assert cart["total_cents"] == sum(price[pid] * q for pid, q in model.items())

    response = client.post("/api/cart/checkout")
    if not model:
        assert response.status_code == 400
        return
    assert response.status_code == 201
    assert response.get_json()["total_cents"] == cart["total_cents"]
    for product in products:
        stock = db.session.scalar(select(Product.stock).where(Product.id == product.id))
        assert stock == STOCK - model.get(product.id, 0)
    assert client.get("/api/cart").get_json()["items"] == []
