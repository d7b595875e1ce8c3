"""Shopping in Chromium: search, cart, checkout (also by keyboard alone), orders, cancel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from storefront.extensions import db
from storefront.orders.models import Order
from storefront.pages.catalogue import PER_PAGE as CATALOGUE_PER_PAGE
from storefront.testing.browser import audit_page, log_in
from storefront.testing.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def shelf(live_data):
    """Three products on sale, two of them kettles."""
    return {
        "blue": live_data(ProductFactory, name="Blue Kettle", price_cents=2500, stock=5),
        "red": live_data(ProductFactory, name="Red Kettle", price_cents=3000, stock=2),
        "mug": live_data(ProductFactory, name="Tea Mug", price_cents=800, stock=10),
    }


def order_count(live_server) -> int:
    with live_server.app.app_context():
        return db.session.scalar(select(func.count()).select_from(Order))


def add_to_cart(page, name: str, quantity: int = 1) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").filter(has_text=f"Added {quantity} × {name}")).to_be_visible()


def test_shopper_searches_fills_the_cart_checks_out_and_cancels(page, live_data, shelf):
    log_in(page, live_data(UserFactory))
    page.goto("/")
    page.get_by_label("Search products").fill("kettle")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2)).to_have_count(2)
    expect(page.get_by_text("Tea Mug")).to_have_count(0)

    add_to_cart(page, "Blue Kettle")
    page.go_back()
    page.go_back()
    add_to_cart(page, "Red Kettle", 2)
    page.get_by_label("Quantity of Blue Kettle").fill("3")
    page.get_by_role("button", name="Update Blue Kettle").click()
    expect(page.get_by_role("status")).to_have_text("Your cart was updated.")
    expect(page.locator("tfoot")).to_contain_text("€135.00")

    page.get_by_role("link", name="Go to checkout").click()
    expect(page.get_by_role("heading", name="Order summary")).to_be_visible()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("status")).to_contain_text("is placed.")
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_heading = page.get_by_role("heading", level=1).inner_text()

    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("link", name=order_heading).click()
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.get_by_role("status")).to_contain_text("is cancelled.")
    expect(page.locator(".status")).to_have_text("Cancelled")


def tab_to(page, locator, limit: int = 40) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} is not reachable with Tab")


def assert_focus_is_visible(locator) -> None:
    style = locator.evaluate(
        "e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth"
    )
    assert not style.startswith("none") and not style.endswith(" 0px"), style


def test_checkout_with_the_keyboard_alone(page, live_server, live_data, shelf):
    log_in(page, live_data(UserFactory))
    page.goto("/")

    product_link = page.get_by_role("link", name="Blue Kettle")
    tab_to(page, product_link)
    assert_focus_is_visible(product_link)
    page.keyboard.press("Enter")
    quantity = page.get_by_label("Quantity")
    tab_to(page, quantity)
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Added 2 × Blue Kettle")

    checkout = page.get_by_role("link", name="Go to checkout")
    tab_to(page, checkout)
    page.keyboard.press("Enter")
    place = page.get_by_role("button", name="Place order")
    tab_to(page, place)
    assert_focus_is_visible(place)
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("is placed.")
    assert order_count(live_server) == 1


def test_a_later_catalogue_page_fits_a_phone_screen(page, live_data):
    """Its pager's words for screen readers once sat past the right edge at 360 px."""
    for n in range(2 * CATALOGUE_PER_PAGE + 1):
        live_data(ProductFactory, name=f"Oolong {n}")
    page.set_viewport_size({"width": 360, "height": 740})

    page.goto("/?page=2")

    expect(page.get_by_role("link", name="Next")).to_be_visible()
    assert audit_page(page) == []
