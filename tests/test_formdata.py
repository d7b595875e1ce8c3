"""Forms read what a browser's form sends: text fields from the form data, files only into
file inputs. A file part named like a text field is a 400 page naming the field, a JSON body
posted with the token in a header a form with missing fields, a body that cannot be read as
a form a 400 page saying so, a field given twice a 400 page naming it; never a 500."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from storefront.catalog.models import Product
from storefront.orders.models import CartItem
from storefront.pages.models import ContactMessage


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _as_file(text: str = "abc") -> tuple[io.BytesIO, str]:
    return io.BytesIO(text.encode()), "field.txt"


@pytest.mark.parametrize(
    ("field", "label"), [("name", "Name"), ("email", "Email"), ("message", "Message")]
)
def test_a_contact_field_sent_as_a_file_is_a_400_page(client, db, csrf_token, field, label):
    data = {"csrf_token": csrf_token(client, "/form"), "name": "Ada", "email": "ada@example.com"}
    data[field] = _as_file("ada@example.com")

    response = client.post("/form", data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert f"The field “{label}” takes text, not a file." in response.get_data(as_text=True)
    assert _count(db, ContactMessage) == 0


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_login_field_sent_as_a_file_is_a_400_page(client, user, csrf_token, field):
    data = {"csrf_token": csrf_token(client, "/login")}
    data |= {"username": user.username, "password": user.password, field: _as_file()}

    response = client.post("/login", data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert "takes text, not a file." in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_a_price_sent_as_a_file_is_a_400_page_and_nothing_is_created(
    client, db, staff, login_as, csrf_token
):
    login_as(client, staff)
    data = {"csrf_token": csrf_token(client, "/staff/products/new"), "sku": "TEA-02"}
    data |= {"name": "Tea", "price": _as_file("1.00"), "stock": "1", "active": "y"}

    response = client.post("/staff/products/new", data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert "The field “Price” takes text, not a file." in response.get_data(as_text=True)
    assert _count(db, Product) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": 5, "email": "ada@example.com"},
        {"name": {"first": "Ada"}, "email": "ada@example.com"},
        ["Ada", "ada@example.com"],
        "Ada",
        {"name": "Ada", "email": "ada@example.com"},
    ],
)
def test_a_json_body_is_not_read_as_the_contact_form(client, db, csrf_token, body):
    token = csrf_token(client, "/form")

    response = client.post("/form", json=body, headers={"X-CSRFToken": token})

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert _count(db, ContactMessage) == 0


def test_a_json_quantity_adds_nothing_to_the_cart(
    client, db, user, login_as, csrf_token, product_factory
):
    login_as(client, user)
    mug = product_factory(name="Mug")
    token = csrf_token(client, f"/products/{mug.id}")

    response = client.post(
        f"/cart/add/{mug.id}", json={"quantity": True}, headers={"X-CSRFToken": token}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/products/{mug.id}"
    assert _count(db, CartItem) == 0


def test_a_stray_file_beside_the_fields_is_ignored(client, db, csrf_token):
    data = {"csrf_token": csrf_token(client, "/form"), "name": "Ada", "email": "ada@example.com"}
    data["attachment"] = _as_file()

    response = client.post("/form", data=data, content_type="multipart/form-data")

    assert response.status_code == 303
    assert _count(db, ContactMessage) == 1


def _multipart(boundary: str, **fields: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return "".join(parts).encode()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", "boundary-less"),
        ("multipart/form-data; boundary=zz", "cut-off"),
        ("application/x-www-form-urlencoded", b"&name=%zz"),
        ("application/x-www-form-urlencoded", b"&name=%4z"),
        ("application/x-www-form-urlencoded", b"&name=Ada%"),
        ("application/x-www-form-urlencoded", b"&name=%FF%FE"),
        ("application/x-www-form-urlencoded", b"&name=\xff"),
        ("application/x-www-form-urlencoded", b"&name=%ED%A0%80"),  # a lone surrogate
        ("application/x-www-form-urlencoded; charset=latin-1", b"&name=%E9"),
    ],
)
def test_a_form_body_that_cannot_be_read_is_a_400_page_and_stores_nothing(
    client, db, csrf_token, content_type, body
):
    token = csrf_token(client, "/form")
    if body == "boundary-less":
        body = _multipart("zz", csrf_token=token, name="Ada", email="ada@example.com")
    elif body == "cut-off":
        body = _multipart("zz", csrf_token=token, email="ada@example.com") + b"--zz\r\nname"
    else:
        body = f"csrf_token={quote(token)}&email=ada%40example.com".encode() + body

    response = client.post("/form", data=body, content_type=content_type)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The form data is malformed: it could not be read." in response.get_data(as_text=True)
    assert _count(db, ContactMessage) == 0


def test_a_form_body_in_utf8_with_escapes_is_read(client, db, csrf_token):
    token = csrf_token(client, "/form")
    body = f"csrf_token={quote(token)}&email=ada%40example.com&name=Ad%C3%A8le+%25+Co"

    response = client.post("/form", data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 303
    assert db.session.scalars(select(ContactMessage)).one().name == "Adèle % Co"


def _given_twice_page(response, field: str) -> bool:
    text = response.get_data(as_text=True)
    message = f"The request body gives the field &#39;{field}&#39; more than once."
    return response.status_code == 400 and response.mimetype == "text/html" and message in text


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("name", ["Ada", "Bob"]),
        ("email", ["ada@example.com", "bob@example.com"]),
        ("message", ["Hi", ""]),
        ("csrf_token", ["good", "forged"]),
        ("csrf_token", ["forged", "good"]),
    ],
)
@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_contact_field_given_twice_is_a_400_page_and_stores_nothing(
    client, db, csrf_token, field, values, content_type
):
    token = csrf_token(client, "/form")
    data = MultiDict({"csrf_token": token, "name": "Ada", "email": "ada@example.com"})
    data.setlist(field, [token if value == "good" else value for value in values])

    response = client.post("/form", data=data, content_type=content_type)

    assert _given_twice_page(response, field)
    assert _count(db, ContactMessage) == 0


def test_a_quantity_given_twice_adds_nothing_to_the_cart(
    client, db, user, login_as, csrf_token, product_factory
):
    login_as(client, user)
    mug = product_factory(name="Mug")
    data = MultiDict({"csrf_token": csrf_token(client, f"/products/{mug.id}")})
    data.setlist("quantity", ["2", "1"])

    response = client.post(f"/cart/add/{mug.id}", data=data)

    assert _given_twice_page(response, "quantity")
    assert _count(db, CartItem) == 0


def test_a_quantity_given_twice_leaves_the_cart_line_as_it_was(
    client, db, user, login_as, csrf_token, product_factory
):
    login_as(client, user)
    mug = product_factory(name="Mug")
    token = csrf_token(client, f"/products/{mug.id}")
    client.post(f"/cart/add/{mug.id}", data={"csrf_token": token, "quantity": "3"})
    data = MultiDict({"csrf_token": csrf_token(client, "/cart")})
    data.setlist("quantity", ["5", "0"])

    response = client.post(f"/cart/items/{mug.id}", data=data)

    assert _given_twice_page(response, "quantity")
    assert db.session.scalars(select(CartItem.quantity)).all() == [3]


def test_a_login_field_given_twice_logs_no_one_in(client, user, csrf_token):
    data = MultiDict({"csrf_token": csrf_token(client, "/login"), "password": user.password})
    data.setlist("username", [user.username, "someone-else"])

    response = client.post("/login", data=data)

    assert _given_twice_page(response, "username")
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_a_picture_given_twice_creates_no_product(client, db, staff, login_as, csrf_token):
    login_as(client, staff)
    data = MultiDict({"csrf_token": csrf_token(client, "/staff/products/new"), "sku": "TEA-02"})
    data.update({"name": "Tea", "price": "1.00", "stock": "1", "active": "y"})
    data.setlist("picture", [_as_file(), _as_file()])

    response = client.post("/staff/products/new", data=data, content_type="multipart/form-data")

    assert _given_twice_page(response, "picture")
    assert _count(db, Product) == 0


def test_a_form_field_past_the_forms_limit_is_a_413_saying_so(client, db, csrf_token):
    """Werkzeug refuses a form field over 500 000 bytes in a body far under the upload limit:
    the page must not claim the body passed "at most 10 MB"."""
    data = {
        "csrf_token": csrf_token(client, "/form"),
        "name": "Ada",
        "email": "ada@example.com",
        "message": "x" * 600_000,
    }
    boundary, body = encode_multipart(data)  # in memory: the test client spools >500 KB

    response = client.post(
        "/form", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The form sent has a field longer, or more fields, than the shop takes." in page
    assert "10 MB" not in page
    assert _count(db, ContactMessage) == 0
