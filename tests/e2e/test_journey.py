"""The whole story in Chromium: a visitor becomes a customer, buys, and changes their mind."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from storefront.testing.factories import ProductFactory

pytestmark = pytest.mark.e2e


def test_visitor_registers_confirms_logs_in_shops_checks_out_and_cancels(
    page, live_data, live_mail_outbox
):
    for name, price, stock in [
        ("Blue Kettle", 2500, 5),
        ("Red Kettle", 3000, 4),
        ("Tea Mug", 800, 9),
    ]:
        live_data(ProductFactory, name=name, price_cents=price, stock=stock)

    page.goto("/")
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("analytical engine 1843")
    page.get_by_label("Repeat the password").fill("analytical engine 1843")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".flashes")).to_contain_text("we sent a confirmation link")

    mail = live_mail_outbox.last_to("ada@example.com")
    page.goto(live_mail_outbox.link_in(mail, "/confirm/"))
    expect(page.get_by_role("heading", name="Your email address is confirmed")).to_be_visible()

    page.get_by_role("main").get_by_role("link", name="log in").click()
    page.get_by_label("Username or email").fill("ada@example.com")
    page.get_by_label("Password").fill("analytical engine 1843")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".flashes")).to_contain_text("Welcome back, ada!")

    page.get_by_label("Search products").fill("kettle")
    page.get_by_label("Sort by").select_option("-price")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(["Red Kettle", "Blue Kettle"])

    for name in ("Red Kettle", "Blue Kettle"):
        page.get_by_role("link", name=name, exact=True).click()
        page.get_by_role("button", name="Add to cart").click()
        expect(page.locator(".flashes")).to_contain_text(f"Added 1 × {name} to your cart.")
        page.goto("/?q=kettle")
    page.get_by_role("link", name="Cart", exact=True).click()
    page.get_by_label("Quantity of Blue Kettle").fill("2")
    page.get_by_role("button", name="Update Blue Kettle").click()
    expect(page.locator("tfoot")).to_contain_text("€80.00")

    page.get_by_role("link", name="Go to checkout").click()
    page.get_by_role("button", name="Place order").click()
    expect(page.locator(".flashes")).to_contain_text("is placed.")
    order_title = page.get_by_role("heading", level=1).inner_text()

    page.get_by_role("link", name="Orders", exact=True).click()
    order_row = page.get_by_role("row").filter(has_text=order_title)
    expect(order_row).to_contain_text("Placed")
    expect(order_row).to_contain_text("€80.00")
    order_row.get_by_role("link").click()
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.locator(".flashes")).to_contain_text(re.compile(r"Order #\d+ is cancelled\."))
    expect(page.locator(".status")).to_have_text("Cancelled")
