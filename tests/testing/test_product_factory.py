"""The `product_factory` fixture makes committed, visible products with sensible defaults."""

from __future__ import annotations


def test_product_factory_makes_an_active_product_in_stock(client, product_factory):
    product = product_factory()

    body = client.get(f"/api/products/{product.id}").get_json()

    assert body["sku"] == product.sku
    assert (body["price_cents"], body["currency"], body["stock"]) == (1000, "EUR", 10)


def test_product_factory_takes_overrides_and_unique_skus(client, product_factory, staff, login_as):
    first, second = product_factory.create_batch(2, price_cents=5, active=False)
    assert client.get(f"/api/products/{first.id}").status_code == 404  # off sale

    login_as(client, staff)
    shown = [client.get(f"/api/products/{p.id}").get_json() for p in (first, second)]
    assert [(p["price_cents"], p["active"]) for p in shown] == [(5, False), (5, False)]
    assert shown[0]["sku"] != shown[1]["sku"]
