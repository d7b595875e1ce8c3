"""The `product_factory` fixture makes committed, visible products with sensible defaults."""

from __future__ import annotations


def test_product_factory_makes_an_active_product_in_stock(client, product_factory):
    product = product_factory()

    body = client.get(f"/api/products/{product.id}").get_json()

    assert body["sku"] == product.sku
    assert (body["price_cents"], body["currency"], body["stock"]) == (1000, "EUR", 10)


def test_product_factory_takes_overrides_and_unique_skus(product_factory):
    first, second = product_factory.create_batch(2, price_cents=5, active=False)
    assert first.sku != second.sku
    assert (first.price_cents, first.active) == (5, False)
