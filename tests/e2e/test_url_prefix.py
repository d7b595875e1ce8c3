"""The shop mounted under a path, in Chromium: a login returns to the page under it.

Swagger UI under the prefix is tested beside its root twin, in test_api_docs.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from storefront.testing.factories import UserFactory

pytestmark = pytest.mark.e2e


def test_a_login_asked_for_under_the_prefix_returns_to_the_page_there(
    page, live_data, shop_under_prefix
):
    user = live_data(UserFactory)
    shop = shop_under_prefix.url

    page.goto(f"{shop}/orders")
    expect(page).to_have_url(re.compile(re.escape(f"{shop}/login?next=")))
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".flashes")).to_contain_text(f"Welcome back, {user.username}!")
    expect(page).to_have_url(f"{shop}/orders")
