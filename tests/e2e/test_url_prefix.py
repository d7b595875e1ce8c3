"""The shop mounted under a path, in Chromium: logins and the API docs stay under it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from storefront.testing.factories import UserFactory
from storefront.testing.plugin import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def mounted(live_server):
    """The live server's shop, served again at `/shop` on a port of its own."""
    server = LiveServer(live_server.app, mount="/shop")
    server.start()
    yield server
    server.stop()


def test_a_login_asked_for_under_the_prefix_returns_to_the_page_there(page, live_data, mounted):
    user = live_data(UserFactory)

    page.goto(f"{mounted.url}/orders")
    expect(page).to_have_url(re.compile(re.escape(f"{mounted.url}/login?next=")))
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".flashes")).to_contain_text(f"Welcome back, {user.username}!")
    expect(page).to_have_url(f"{mounted.url}/orders")


def test_try_it_out_on_the_docs_page_calls_the_api_under_the_prefix(page, mounted):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{mounted.url}/api/docs")
    list_products = page.locator(".opblock-get").filter(
        has=page.locator('[data-path="/api/products"]')
    )
    list_products.locator(".opblock-summary-control").click()
    list_products.get_by_role("button", name="Try it out").click()
    list_products.get_by_role("button", name="Execute").click()

    live_status = list_products.locator(".live-responses-table .response .response-col_status")
    expect(live_status).to_have_text("200")
    assert any(url.startswith(f"{mounted.url}/api/products") for url in requested)
    assert [url for url in requested if not url.startswith(f"{mounted.url}/")] == []
