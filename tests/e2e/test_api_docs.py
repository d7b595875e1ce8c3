"""The API docs page in Chromium: Swagger UI runs from the shop's origin under its CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("server", ["live_server", "shop_under_prefix"])
def test_swagger_ui_shows_the_documented_operations_and_tries_one(
    page, browser_watch, request, server
):
    """At the root and under a prefix alike: "Try it out" calls the API where it is served."""
    shop = request.getfixturevalue(server).url
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{shop}/api/docs")
    list_products = page.locator(".opblock-get").filter(
        has=page.locator('[data-path="/api/products"]')
    )
    expect(list_products).to_be_visible()
    expect(page.locator('.opblock-post [data-path="/api/cart/checkout"]')).to_be_visible()
    list_products.locator(".opblock-summary-control").click()
    expect(list_products.get_by_text("per_page", exact=True)).to_be_visible()
    list_products.get_by_role("button", name="Try it out").click()
    list_products.get_by_role("button", name="Execute").click()

    live_status = list_products.locator(".live-responses-table .response .response-col_status")
    expect(live_status).to_have_text("200")
    assert f"{shop}/api/openapi.json" in requested
    assert any(url.startswith(f"{shop}/api/products?") for url in requested)
    assert [url for url in requested if not url.startswith(f"{shop}/")] == []
    assert [p for p in browser_watch.problems if "Content Security Policy" in p] == []
