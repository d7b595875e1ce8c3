"""Every page at 360 px and 1280 px: screenshots for people to look at, audits for the suite.

`make screenshots` runs just this module; the pictures land in
`test-artifacts/screens/<page>-360.png` and `<page>-1280.png`. At both widths each page
must pass `audit_page`: no sideways scrolling, labelled inputs, alt text, AA contrast.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from storefront.catalog.models import Product
from storefront.extensions import db
from storefront.media import service as media
from storefront.orders import service as orders
from storefront.testing.browser import artifacts_dir, audit_page, log_in
from storefront.testing.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = (360, 1280)
COLOURS = [(190, 60, 40), (30, 110, 160), (230, 180, 40), (60, 140, 80)]


@dataclass
class Shop:
    customer: object
    staff: object
    product_id: int
    order_id: int


def picture(colour: tuple[int, int, int]) -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), colour).save(buffer, "PNG")
    buffer.seek(0)
    return FileStorage(buffer, filename="product.png", content_type="image/png")


def stock_the_shop(live_server, live_data) -> Shop:
    """Products (some with pictures, one low, one sold out), a cart and a placed order."""
    customer = live_data(UserFactory, username="ada")
    staff = live_data(UserFactory, username="grace", role="staff")
    names = [
        "Cast Iron Teapot",
        "Porcelain Cup Set with a Rather Long Name",
        "Bamboo Whisk",
        "Matcha Tin",
        "Glass Kettle",
        "Tea Towel",
    ]
    products = [
        live_data(
            ProductFactory, name=name, price_cents=1250 + 730 * i, stock=[12, 2, 0, 7, 30, 1][i]
        )
        for i, name in enumerate(names)
    ]
    with live_server.app.test_request_context():
        owner = db.session.merge(staff)
        for product, colour in zip(products, COLOURS, strict=False):
            image = media.check_image(picture(colour))
            media.set_product_image(db.session.get(Product, product.id), owner, image)
        buyer = db.session.merge(customer)
        orders.add_to_cart(buyer, products[0].id, 1)
        order, _ = orders.checkout(buyer, "screens")
        orders.add_to_cart(buyer, products[0].id, 2)
        orders.add_to_cart(buyer, products[1].id, 1)
        return Shop(customer, staff, products[0].id, order.id)


PAGES = {
    # name: (who is logged in, path; {p} is a product id, {o} an order id)
    "catalogue": (None, "/"),
    "catalogue-search": (None, "/?q=tea&sort=-price"),
    "product": (None, "/products/{p}"),
    "register": (None, "/register"),
    "login": (None, "/login"),
    "reset": (None, "/reset"),
    "contact": (None, "/form"),
    "contact-thanks": (None, "/form/thanks"),
    "not-found": (None, "/no-such-page"),
    "cart": ("customer", "/cart"),
    "checkout": ("customer", "/checkout"),
    "orders": ("customer", "/orders"),
    "order": ("customer", "/orders/{o}"),
    "account": ("customer", "/account"),
    "forbidden": ("customer", "/staff/products"),
    "staff-products": ("staff", "/staff/products"),
    "staff-product-new": ("staff", "/staff/products/new"),
    "staff-product-edit": ("staff", "/staff/products/{p}/edit"),
    "staff-orders": ("staff", "/orders"),
    "staff-order": ("staff", "/orders/{o}"),
}


def show_every_image(page) -> None:
    """Scroll to the end so lazy images load, wait for them, and go back to the top."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.evaluate(
        """() => Promise.all(Array.from(document.images)
             .filter((image) => !image.complete)
             .map((image) => new Promise((done) => { image.onload = image.onerror = done; })))"""
    )
    page.evaluate("window.scrollTo(0, 0)")


@pytest.mark.parametrize("name", PAGES)
def test_page_reads_well_at_phone_and_desktop_widths(
    page, live_server, live_data, pytestconfig, name
):
    shop = stock_the_shop(live_server, live_data)
    who, path = PAGES[name]
    if who:
        log_in(page, getattr(shop, who))
    screens = artifacts_dir(pytestconfig) / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(path.format(p=shop.product_id, o=shop.order_id))
        show_every_image(page)
        page.screenshot(path=str(screens / f"{name}-{width}.png"), full_page=True)
        assert audit_page(page) == [], f"{name} at {width} px"


#: The longest values the forms and the API take, in one unbroken word each.
LONGEST_NAME = "Teekannenuntersetzer" * 10  # 200 characters
LONGEST_SKU = "K" * 64
LONGEST_USERNAME = "u" * 64


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/products/{p}"),
        ("customer", "/cart"),
        ("customer", "/checkout"),
        ("customer", "/orders/{o}"),
        ("customer", "/account"),
        ("staff", "/staff/products"),
    ],
)
def test_the_longest_names_the_shop_takes_still_fit_a_phone(
    page, live_server, live_data, who, path
):
    """A name, SKU or username of the greatest length allowed wraps instead of widening the
    page past 360 px (a table cell or a paragraph holds it at its full width otherwise)."""
    customer = live_data(UserFactory, username=LONGEST_USERNAME)
    staff = live_data(UserFactory, username="grace", role="staff")
    product = live_data(ProductFactory, name=LONGEST_NAME, sku=LONGEST_SKU, stock=5)
    with live_server.app.test_request_context():
        buyer = db.session.merge(customer)
        orders.add_to_cart(buyer, product.id, 1)
        order_id = orders.checkout(buyer, "longest")[0].id
        orders.add_to_cart(buyer, product.id, 1)
    if who:
        log_in(page, customer if who == "customer" else staff)
    page.set_viewport_size({"width": 360, "height": 800})

    page.goto(path.format(p=product.id, o=order_id))

    assert audit_page(page) == []
