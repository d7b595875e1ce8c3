"""The `db` fixture rolls back every change, commits included, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storefront.accounts.models import User


@pytest.mark.parametrize("attempt", [1, 2])
def test_committed_rows_do_not_outlive_the_test(db, user_factory, attempt):
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    user_factory(username="same-name-each-time")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("attempt", [1, 2])
def test_rows_committed_by_a_request_do_not_outlive_the_test(client, attempt):
    response = client.post(
        "/api/users",
        json={
            "username": "repeat",
            "email": "repeat@example.com",
            "password": "a-long-passphrase-1",
        },
    )
    assert response.status_code == 201


@pytest.mark.parametrize("products", [4, 5])
def test_catalogue_totals_the_shop_keeps_do_not_outlive_the_test(
    client, product_factory, monkeypatch, products
):
    """Totals past the exact-count limit are kept for seconds: a kept 4 must not answer
    the next test, whose catalogue holds 5."""
    from storefront.catalog import service

    monkeypatch.setattr(service, "EXACT_COUNT_LIMIT", 3)
    product_factory.create_batch(products)

    answer = client.get("/api/products?per_page=1")

    assert answer.headers["X-Total-Count"] == str(products)
