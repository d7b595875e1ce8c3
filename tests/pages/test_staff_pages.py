"""Staff create and edit products through the HTML forms."""

from __future__ import annotations

import io
import re
import threading
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import request
from sqlalchemy import select

from live import TIMEOUT, logged_in_session
from storefront.catalog import service as catalog_service
from storefront.catalog.models import Product
from storefront.pages import staff as staff_pages
from storefront.testing.factories import ProductFactory, UserFactory


def new_staff(live_server: Any) -> int:
    with live_server.app.app_context():
        return UserFactory(role="staff").id


NEW_PRODUCT = {
    "sku": "TEA-01",
    "name": "Green Tea",
    "description": "Loose leaf.",
    "price": "7.90",
    "stock": "12",
    "active": "y",
}


def test_only_staff_may_open_the_staff_pages(client, user, login_as):
    assert client.get("/staff/products").headers["Location"] == "/login?next=/staff/products"
    login_as(client, user)
    response = client.get("/staff/products/new")
    assert response.status_code == 403
    assert "This page is not open to you" in response.get_data(as_text=True)


def test_staff_see_every_product_including_those_not_on_sale(
    client, staff, login_as, product_factory
):
    product_factory(name="Old Teapot", active=False)
    login_as(client, staff)

    html = client.get("/staff/products").get_data(as_text=True)

    assert "Old Teapot" in html and "Manage products" in html


@pytest.mark.parametrize(
    ("number", "status"), [("1_0", 200), ("+2", 200), ("2000000", 404), ("2", 404)]
)
def test_the_staff_list_reads_its_page_number_as_the_catalogue_does(
    client, staff, login_as, number, status
):
    login_as(client, staff)

    response = client.get(f"/staff/products?page={number}")

    assert response.status_code == status


@pytest.mark.parametrize("stock", ["1_000", "+5", " 5", "٥"])
def test_a_stock_not_in_plain_digits_is_a_field_error_and_stores_nothing(
    client, staff, login_as, csrf_token, db, stock
):
    login_as(client, staff)
    data = {**NEW_PRODUCT, "stock": stock, "csrf_token": csrf_token(client, "/staff/products/new")}

    response = client.post("/staff/products/new", data=data)

    assert response.status_code == 400
    assert 'id="stock-error">Not a valid integer value.' in response.get_data(as_text=True)
    assert db.session.scalar(select(Product).where(Product.sku == "TEA-01")) is None


def test_staff_create_a_product_that_then_appears_in_the_shop(
    client, staff, login_as, csrf_token, db
):
    login_as(client, staff)
    token = csrf_token(client, "/staff/products/new")

    response = client.post(
        "/staff/products/new", data={**NEW_PRODUCT, "csrf_token": token}, follow_redirects=True
    )

    product = db.session.scalar(select(Product).where(Product.sku == "TEA-01"))
    assert (product.name, product.price_cents, product.stock, product.active) == (
        "Green Tea",
        790,
        12,
        True,
    )
    assert response.request.path == f"/staff/products/{product.id}/edit"
    assert "“Green Tea” was added to the catalogue." in response.get_data(as_text=True)
    assert "Green Tea" in client.get("/").get_data(as_text=True)


def test_field_errors_are_shown_next_to_their_fields(
    client, staff, login_as, csrf_token, product_factory
):
    product_factory(sku="TEA-01")
    login_as(client, staff)
    token = csrf_token(client, "/staff/products/new")

    bad_price = client.post(
        "/staff/products/new",
        data={**NEW_PRODUCT, "sku": "TEA-02", "price": "7.999", "csrf_token": token},
    )
    taken_sku = client.post("/staff/products/new", data={**NEW_PRODUCT, "csrf_token": token})

    assert bad_price.status_code == 400
    html = bad_price.get_data(as_text=True)
    assert 'aria-describedby="price-hint price-error"' in html
    assert 'id="price-error">Enter the price in digits with at most two decimals' in html
    assert taken_sku.status_code == 400
    assert 'id="sku-error">SKU already used by another product.' in taken_sku.get_data(as_text=True)


@pytest.mark.parametrize("name", ["\u200b", " \ufeff\u2060 "])
def test_a_name_of_only_invisible_characters_is_blank_as_in_the_api(
    client, staff, login_as, csrf_token, db, name
):
    login_as(client, staff)
    token = csrf_token(client, "/staff/products/new")

    response = client.post(
        "/staff/products/new", data={**NEW_PRODUCT, "name": name, "csrf_token": token}
    )

    assert response.status_code == 400
    assert 'id="name-error">Must not be blank.' in response.get_data(as_text=True)
    assert db.session.scalar(select(Product).where(Product.sku == "TEA-01")) is None


@pytest.mark.parametrize("sku", ["TEA-01\n", "TEA 01", "-TEA"])
def test_a_sku_the_api_would_refuse_is_a_field_error(client, staff, login_as, csrf_token, db, sku):
    login_as(client, staff)
    token = csrf_token(client, "/staff/products/new")

    response = client.post(
        "/staff/products/new", data={**NEW_PRODUCT, "sku": sku, "csrf_token": token}
    )

    assert response.status_code == 400
    assert 'id="sku-error">Letters, digits' in response.get_data(as_text=True)
    assert db.session.scalar(select(Product).where(Product.sku.like("%TEA%"))) is None


def test_a_stock_of_hundreds_of_digits_is_a_field_error(client, staff, login_as, csrf_token):
    login_as(client, staff)
    token = csrf_token(client, "/staff/products/new")

    response = client.post(
        "/staff/products/new", data={**NEW_PRODUCT, "stock": "9" * 400, "csrf_token": token}
    )

    assert response.status_code == 400
    assert 'id="stock-error">That number is too large.' in response.get_data(as_text=True)
    assert "Green Tea" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("price", ["100000000", "9" * 400, "9" * 400 + ".99"])
def test_a_price_too_high_is_a_field_error(client, staff, login_as, csrf_token, price):
    login_as(client, staff)
    data = {**NEW_PRODUCT, "price": price, "csrf_token": csrf_token(client, "/staff/products/new")}

    response = client.post("/staff/products/new", data=data)

    assert response.status_code == 400
    assert 'id="price-error">That price is too high.' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("price", "cents"),
    [("12", 1200), ("12.5", 1250), ("12.50", 1250), ("0", 0), ("0.01", 1), ("007.10", 710)],
)
def test_a_price_in_digits_with_up_to_two_decimals_is_stored_in_cents(
    client, staff, login_as, csrf_token, db, price, cents
):
    login_as(client, staff)
    data = {**NEW_PRODUCT, "price": price, "csrf_token": csrf_token(client, "/staff/products/new")}

    response = client.post("/staff/products/new", data=data)

    assert response.status_code == 303
    stored = db.session.scalar(select(Product.price_cents).where(Product.sku == "TEA-01"))
    assert stored == cents


@pytest.mark.parametrize(
    "price",
    [
        "1e3",
        "1E3",
        "1e30",
        "9e999999999",
        "12.345",
        " 12",
        "12 ",
        "-1",
        "+1",
        "NaN",
        "Infinity",
        "١٢",
        "１２",
        "12,50",
        "1,250",
        "1_000",
        ".5",
        "12.",
        "0x10",
    ],
)
def test_a_price_not_in_plain_digits_is_a_field_error_and_stores_nothing(
    client, staff, login_as, csrf_token, db, price
):
    login_as(client, staff)
    data = {**NEW_PRODUCT, "price": price, "csrf_token": csrf_token(client, "/staff/products/new")}

    response = client.post("/staff/products/new", data=data)

    assert response.status_code == 400
    assert (
        'id="price-error">Enter the price in digits with at most two decimals, such as 12.50.'
        in (response.get_data(as_text=True))
    )
    assert db.session.scalar(select(Product).where(Product.sku == "TEA-01")) is None


def test_a_price_not_in_plain_digits_leaves_an_edited_product_as_it_was(
    client, staff, login_as, csrf_token, product_factory, db
):
    product = product_factory(name="Mug", price_cents=1200)
    login_as(client, staff)
    url = f"/staff/products/{product.id}/edit"
    data = {**NEW_PRODUCT, "price": "1e3", "csrf_token": csrf_token(client, url)}

    response = client.post(url, data=data)

    assert response.status_code == 400
    db.session.refresh(product)
    assert (product.name, product.price_cents) == ("Mug", 1200)


def test_staff_edit_a_product(client, staff, login_as, csrf_token, product_factory, db):
    product = product_factory(name="Mug", price_cents=1200, stock=4)
    login_as(client, staff)
    edit_url = f"/staff/products/{product.id}/edit"
    form = client.get(edit_url).get_data(as_text=True)
    assert 'value="12.00"' in form and 'value="Mug"' in form

    response = client.post(
        edit_url,
        data={
            **NEW_PRODUCT,
            "sku": product.sku,
            "name": "Big Mug",
            "price": "15",
            "stock": "0",
            "active": "",
            "csrf_token": csrf_token(client, edit_url),
        },
        follow_redirects=True,
    )

    assert "“Big Mug” was saved." in response.get_data(as_text=True)
    db.session.refresh(product)
    assert (product.name, product.price_cents, product.stock, product.active) == (
        "Big Mug",
        1500,
        0,
        False,
    )
    assert "Big Mug" not in client.get("/").get_data(as_text=True)


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("shown", ["not json", "[" * 1000, '{"a":' * 50_000])
def test_an_edit_form_whose_shown_values_cannot_be_read_saves_every_field(
    client, staff, login_as, csrf_token, product_factory, db, shown
):
    """As a form that does not say what it showed (a script posting it, say)."""
    product = product_factory(name="Mug", price_cents=1200, stock=4)
    login_as(client, staff)
    edit_url = f"/staff/products/{product.id}/edit"
    data = {**NEW_PRODUCT, "sku": product.sku, "name": "Big Mug", "shown": shown}

    response = client.post(edit_url, data={**data, "csrf_token": csrf_token(client, edit_url)})

    assert response.status_code == 303
    db.session.refresh(product)
    assert (product.name, product.stock) == ("Big Mug", 12)


def test_staff_add_a_picture_that_the_shop_then_shows(client, staff, login_as, csrf_token):
    login_as(client, staff)
    data = {
        **NEW_PRODUCT,
        "csrf_token": csrf_token(client, "/staff/products/new"),
        "picture": (io.BytesIO(png_bytes()), "teapot.png"),
    }

    response = client.post("/staff/products/new", data=data, follow_redirects=True)

    assert 'alt="Current picture of Green Tea"' in response.get_data(as_text=True)
    catalogue = client.get("/").get_data(as_text=True)
    thumbnail = re.search(r'<img src="([^"]+)" alt="Green Tea"', catalogue).group(1)
    with client.get(thumbnail) as picture:
        assert picture.status_code == 200 and picture.mimetype.startswith("image/")


def test_a_picture_sent_with_a_refused_form_is_asked_for_again(
    client, staff, login_as, csrf_token, product_factory
):
    """A browser keeps the typed fields but not the chosen file: saving again without
    choosing it would have made the product without its picture, and nothing said so."""
    product_factory(sku="TEA-01")
    login_as(client, staff)
    data = {
        **NEW_PRODUCT,
        "csrf_token": csrf_token(client, "/staff/products/new"),
        "picture": (io.BytesIO(png_bytes()), "teapot.png"),
    }

    response = client.post("/staff/products/new", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    again = "Choose the picture again: it is not kept while the form has a problem."
    assert f'id="picture-error">{again}' in page
    # The summary stands above the form.
    summary = page[page.index('error-summary" role="alert"') : page.index('id="sku"')]
    assert 'href="#sku">SKU already used' in summary
    assert f'href="#picture">Picture: {again}' in summary
    assert "JPEG, PNG, GIF or WebP, at most 10 MB." in client.get("/staff/products/new").text


def test_a_product_with_a_picture_is_edited_without_sending_a_new_one(
    client, staff, login_as, csrf_token
):
    login_as(client, staff)
    data = {
        **NEW_PRODUCT,
        "csrf_token": csrf_token(client, "/staff/products/new"),
        "picture": (io.BytesIO(png_bytes()), "teapot.png"),
    }
    edit_url = client.post("/staff/products/new", data=data).headers["Location"]
    changed = {
        **NEW_PRODUCT,
        "name": "Green Tea, loose",
        "csrf_token": csrf_token(client, edit_url),
    }

    response = client.post(edit_url, data=changed, content_type="multipart/form-data")

    assert response.status_code == 303
    assert "Green Tea, loose" in client.get("/").get_data(as_text=True)


def test_a_file_that_is_not_an_image_is_refused_next_to_the_picture_field(
    client, staff, login_as, csrf_token, product_factory
):
    product = product_factory()
    login_as(client, staff)
    edit_url = f"/staff/products/{product.id}/edit"
    data = {
        **NEW_PRODUCT,
        "sku": product.sku,
        "csrf_token": csrf_token(client, edit_url),
        "picture": (io.BytesIO(b"#!/bin/sh\necho not a picture\n"), "photo.png"),
    }

    response = client.post(edit_url, data=data)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'aria-describedby="picture-hint picture-error"' in html
    assert 'id="picture-error">' in html
    stored = client.get(f"/api/products/{product.id}").get_json()
    assert stored["name"] == product.name != NEW_PRODUCT["name"]  # nothing half-saved


def test_a_new_product_with_a_refused_picture_is_not_created(client, staff, login_as, csrf_token):
    login_as(client, staff)
    data = {
        **NEW_PRODUCT,
        "csrf_token": csrf_token(client, "/staff/products/new"),
        "picture": (io.BytesIO(b"not a picture"), "photo.png"),
    }

    response = client.post("/staff/products/new", data=data)

    assert response.status_code == 400
    assert client.get("/api/products", query_string={"q": NEW_PRODUCT["name"]}).get_json() == []


class _FormFields(HTMLParser):
    """What a browser sends back for a form left as it is: inputs, ticked boxes, text areas."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "textarea":
            self._textarea = a["name"] or ""
            self.fields[self._textarea] = ""
        elif tag == "input" and a.get("type") not in ("file", "submit", "checkbox"):
            self.fields[a["name"] or ""] = a.get("value") or ""
        elif tag == "input" and "checked" in a:
            self.fields[a["name"] or ""] = a.get("value") or "y"

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            if not self.fields[self._textarea]:  # as in HTML: a leading line break is no text
                data = data.removeprefix("\r\n").removeprefix("\n")
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def form_as_shown(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def open_edit_page_then_sell(client, login_as, staff, buyer, product, quantity: int):
    """Staff open the product's edit page, then `buyer` buys `quantity` of it; returns the
    page's URL and HTML, with staff logged in again on `client`."""
    login_as(client, staff)
    edit_url = f"/staff/products/{product.id}/edit"
    shown = client.get(edit_url).get_data(as_text=True)
    login_as(client, buyer)
    client.post("/api/cart/items", json={"product_id": product.id, "quantity": quantity})
    assert client.post("/api/cart/checkout").status_code == 201
    login_as(client, staff)
    return edit_url, shown


def open_edit_page_then_reprice(client, login_as, staff, product, db, cents: int):
    """Staff open the product's edit page, then another staff member's save sets its price
    to `cents`; returns the page's URL and form as it was shown."""
    login_as(client, staff)
    edit_url = f"/staff/products/{product.id}/edit"
    shown = form_as_shown(client.get(edit_url).get_data(as_text=True))
    product.price_cents = cents
    db.session.commit()
    return edit_url, shown


def test_a_sale_while_the_edit_page_is_open_is_not_undone_by_saving_it(
    client, staff, user, login_as, csrf_token, product_factory, db
):
    """The form sends back the stock it showed; only fields the staff member changed are
    written, so stock sold meanwhile stays sold."""
    product = product_factory(name="Mug", price_cents=1200, stock=10)
    edit_url, shown = open_edit_page_then_sell(client, login_as, staff, user, product, 3)
    data = {**form_as_shown(shown), "name": "Big Mug", "csrf_token": csrf_token(client, edit_url)}
    assert client.post(edit_url, data=data).status_code == 303

    db.session.refresh(product)
    assert (product.name, product.stock, product.price_cents) == ("Big Mug", 7, 1200)


def test_a_stock_changed_on_the_page_while_some_sold_is_asked_about_then_written(
    client, staff, user, login_as, csrf_token, product_factory, db
):
    product = product_factory(stock=10)
    edit_url, shown = open_edit_page_then_sell(client, login_as, staff, user, product, 3)
    data = {**form_as_shown(shown), "stock": "25", "csrf_token": csrf_token(client, edit_url)}
    asked = client.post(edit_url, data=data)
    assert asked.status_code == 400
    assert "(now: 7)" in asked.get_data(as_text=True)
    again = {**form_as_shown(asked.get_data(as_text=True)), "csrf_token": data["csrf_token"]}
    assert client.post(edit_url, data=again).status_code == 303

    db.session.refresh(product)
    assert product.stock == 25


def test_asked_about_a_clash_the_fields_left_alone_show_what_is_stored_now(
    client, staff, user, login_as, csrf_token, product_factory, db
):
    """Saving the page that asks again must not bring back stock sold meanwhile."""
    product = product_factory(price_cents=3000, stock=45)
    edit_url, shown = open_edit_page_then_sell(client, login_as, staff, user, product, 1)
    product.price_cents = 3100  # and another staff member changed the price
    db.session.commit()
    data = {**form_as_shown(shown), "price": "6.00", "csrf_token": csrf_token(client, edit_url)}

    asked = client.post(edit_url, data=data)

    assert asked.status_code == 400
    shown_again = form_as_shown(asked.get_data(as_text=True))
    assert (shown_again["price"], shown_again["stock"]) == ("6.00", "44")
    again = {**shown_again, "csrf_token": data["csrf_token"]}
    assert client.post(edit_url, data=again).status_code == 303
    db.session.refresh(product)
    assert (product.price_cents, product.stock) == (600, 44)


def test_a_field_left_as_shown_keeps_another_staff_members_change(
    client, staff, login_as, csrf_token, product_factory, db
):
    """Even when the browser sends it back in another form: a text area's line breaks as
    CRLF, a name with the spaces around it that the form trims."""
    product = product_factory(name=" Padded ", description="Two lines\nsecond", price_cents=1000)
    login_as(client, staff)
    edit_url = f"/staff/products/{product.id}/edit"
    shown = form_as_shown(client.get(edit_url).get_data(as_text=True))
    product.name, product.description = "Renamed", "Rewritten"
    db.session.commit()

    sent = {**shown, "description": shown["description"].replace("\n", "\r\n"), "price": "15"}
    response = client.post(edit_url, data={**sent, "csrf_token": csrf_token(client, edit_url)})

    assert response.status_code == 303
    db.session.refresh(product)
    assert (product.name, product.description, product.price_cents) == (
        "Renamed",
        "Rewritten",
        1500,
    )


def test_two_staff_members_making_the_same_change_is_no_clash(
    client, staff, login_as, csrf_token, product_factory, db
):
    product = product_factory(price_cents=1000)
    edit_url, shown = open_edit_page_then_reprice(client, login_as, staff, product, db, 1200)

    saved = client.post(
        edit_url, data={**shown, "price": "12", "csrf_token": csrf_token(client, edit_url)}
    )

    assert saved.status_code == 303


def test_spaces_around_a_new_products_name_are_not_stored(client, staff, login_as, csrf_token, db):
    login_as(client, staff)
    token = csrf_token(client, "/staff/products/new")
    padded = {**NEW_PRODUCT, "sku": "TEA-09", "name": "  Green Tea  ", "csrf_token": token}

    assert client.post("/staff/products/new", data=padded).status_code == 303

    stored = db.session.scalar(select(Product).where(Product.sku == "TEA-09"))
    assert stored is not None and stored.name == "Green Tea"


def test_a_field_changed_by_two_staff_members_asks_the_second_before_it_is_overwritten(
    client, staff, login_as, csrf_token, product_factory, db
):
    product = product_factory(price_cents=1000)
    edit_url, stale = open_edit_page_then_reprice(client, login_as, staff, product, db, 1200)

    refused = client.post(
        edit_url, data={**stale, "price": "11", "csrf_token": csrf_token(client, edit_url)}
    )

    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Changed by someone else since you opened this page (now: 12.00)" in html
    db.session.refresh(product)
    assert product.price_cents == 1200
    again = client.post(
        edit_url, data={**form_as_shown(html), "csrf_token": csrf_token(client, edit_url)}
    )
    assert again.status_code == 303
    db.session.refresh(product)
    assert product.price_cents == 1100


@pytest.mark.parametrize(
    ("theirs", "mine", "now"),
    [
        ({"price_cents": 1200}, {"price": "15"}, "12.00"),
        ({"stock": 7}, {"stock": "50"}, "7"),
    ],
    ids=["price", "stock"],
)
def test_a_change_committed_while_the_save_runs_is_asked_about_too(
    live_server, monkeypatch, theirs, mine, now
):
    """Another staff member's change (or a sale) commits after the save has read the product
    and before it writes: the save compares with the product as it holds it, not as it read
    it first (on PostgreSQL; on SQLite the save's write lock may make the change wait)."""
    with live_server.app.app_context():
        product_id = ProductFactory(price_cents=1000, stock=10).id
    tab = logged_in_session(live_server, new_staff(live_server))
    other = logged_in_session(live_server, new_staff(live_server))
    edit_url = f"{live_server.url}/staff/products/{product_id}/edit"
    shown = form_as_shown(tab.get(edit_url, timeout=TIMEOUT).text)
    changes: list[threading.Thread] = []
    changed: list[Any] = []
    held: list[Any] = []
    checked_picture = staff_pages._checked_picture
    lock_product = catalog_service.lock_product
    field = next(iter(theirs))

    def changed_meanwhile(form: Any) -> Any:
        url = f"{live_server.url}/api/products/{product_id}"
        changes.append(
            threading.Thread(target=lambda: changed.append(other.patch(url, json=theirs)))
        )
        changes[0].start()
        changes[0].join(timeout=0.5)  # done unless this request holds the database
        return checked_picture(form)

    def holding(product_id: int) -> Any:
        product = lock_product(product_id)
        if request.path.startswith("/staff/"):  # the save's, not the API change's
            held.append(getattr(product, field))
        return product

    monkeypatch.setattr(staff_pages, "_checked_picture", changed_meanwhile)
    monkeypatch.setattr(catalog_service, "lock_product", holding)
    saved = tab.post(edit_url, data={**shown, **mine}, allow_redirects=False, timeout=TIMEOUT)
    changes[0].join(timeout=TIMEOUT)

    assert [response.status_code for response in changed] == [200]
    product = tab.get(f"{live_server.url}/api/products/{product_id}", timeout=TIMEOUT).json()
    assert product[field] == theirs[field]
    if held[0] == theirs[field]:  # which came first is what the save held, however long
        assert saved.status_code == 400
        assert f"Changed by someone else since you opened this page (now: {now})" in saved.text
    else:
        assert saved.status_code == 303
