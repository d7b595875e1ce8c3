"""A staff member adds a product with a photo in Chromium and finds it in the shop."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from storefront.testing.browser import audit_page, log_in
from storefront.testing.factories import UserFactory

pytestmark = pytest.mark.e2e


def photo() -> dict[str, object]:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (20, 110, 60)).save(buffer, "JPEG")
    return {"name": "teapot.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_staff_create_a_product_with_a_photo_and_see_it_in_the_catalogue(page, live_data):
    log_in(page, live_data(UserFactory, role="staff"))
    page.goto("/")
    page.get_by_role("link", name="Manage products").click()
    page.get_by_role("link", name="Add a product").click()

    page.get_by_label("SKU").fill("TEA-POT-1")
    page.get_by_label("Name").fill("Green Teapot")
    page.get_by_label("Description").fill("Cast iron, 1 litre.")
    page.get_by_label("Price").fill("39.90")
    page.get_by_label("Stock").fill("4")
    page.get_by_label("Picture").set_input_files(photo())
    page.get_by_role("button", name="Add product").click()

    expect(page.get_by_role("status")).to_have_text("“Green Teapot” was added to the catalogue.")
    expect(page.get_by_alt_text("Current picture of Green Teapot")).to_be_visible()

    page.get_by_role("link", name="Shop", exact=True).click()
    card = page.get_by_role("listitem").filter(has_text="Green Teapot")
    expect(card.get_by_alt_text("Green Teapot")).to_be_visible()
    expect(card).to_contain_text("€39.90")
    expect(card).to_contain_text("Only 4 left")
    assert audit_page(page) == []

    card.get_by_role("link", name="Green Teapot").click()
    expect(page.get_by_role("heading", name="Green Teapot")).to_be_visible()
    expect(page.get_by_alt_text("Green Teapot")).to_be_visible()


def test_a_customer_opening_a_staff_page_gets_the_friendly_403(page, live_data):
    log_in(page, live_data(UserFactory))

    response = page.goto("/staff/products")

    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not open to you")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
