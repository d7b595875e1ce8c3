"""Fixtures shared by the cart, checkout and order tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def fill_cart(client) -> Callable[[dict[Any, int]], None]:
    """`fill_cart({product: quantity, ...})` for the user logged in on `client`."""

    def fill(quantities: dict[Any, int]) -> None:
        for product, quantity in quantities.items():
            response = client.post(
                "/api/cart/items", json={"product_id": product.id, "quantity": quantity}
            )
            assert response.status_code == 200, response.get_json()

    return fill


@pytest.fixture
def place_order(client, fill_cart) -> Callable[..., dict]:
    """`place_order({product: quantity}, key=None)`: fill the cart, check out, return the order."""

    def place(quantities: dict[Any, int], key: str | None = None) -> dict:
        fill_cart(quantities)
        headers = {"Idempotency-Key": key} if key else {}
        response = client.post("/api/cart/checkout", headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return place
