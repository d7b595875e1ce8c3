"""The tutorial's CSRF-protected form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storefront.pages.models import ContactMessage


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ContactMessage))


def test_form_page_has_labelled_fields_and_a_token(client):
    page = client.get("/form").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    for field in ("name", "email", "message"):
        assert f'for="{field}"' in page


def test_valid_post_stores_the_message_and_thanks(client, db, csrf_token):
    token = csrf_token(client, "/form")
    data = {"csrf_token": token, "name": "Ada", "email": "ada@example.com", "message": "Hi!"}
    response = client.post("/form", data=data, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Thank you!" in page
    assert "Your message was sent." not in page  # said once, by the thank-you page
    stored = db.session.scalars(select(ContactMessage)).one()
    assert (stored.name, stored.email, stored.message) == ("Ada", "ada@example.com", "Hi!")


def test_message_is_optional(client, db, csrf_token):
    token = csrf_token(client, "/form")
    data = {"csrf_token": token, "name": "Ada", "email": "ada@example.com"}
    assert client.post("/form", data=data).status_code == 303
    assert _count(db) == 1


def test_post_without_token_is_400_and_stores_nothing(client, db):
    data = {"name": "Ada", "email": "ada@example.com"}
    assert client.post("/form", data=data).status_code == 400
    assert _count(db) == 0


def test_post_with_a_forged_token_is_400(client, db, csrf_token):
    csrf_token(client, "/form")
    data = {"csrf_token": "forged", "name": "Ada", "email": "ada@example.com"}
    assert client.post("/form", data=data).status_code == 400
    assert _count(db) == 0


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_refused_token_tells_the_visitor_what_to_do(client, db, csrf_token, token):
    csrf_token(client, "/form")
    data = {"name": "Ada", "email": "ada@example.com"} | ({"csrf_token": token} if token else {})
    response = client.post("/form", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "reload the page" in page and "CSRF" not in page


def test_invalid_fields_are_shown_next_to_them(client, db, csrf_token):
    token = csrf_token(client, "/form")
    response = client.post("/form", data={"csrf_token": token, "name": "", "email": "nope"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="email-error"' in page
    assert 'aria-describedby="email-error"' in page
    assert _count(db) == 0


def test_an_address_at_a_test_domain_is_accepted(client, db, csrf_token):
    token = csrf_token(client, "/form")
    data = {"csrf_token": token, "name": "Ada", "email": "ada@shop.test"}
    assert client.post("/form", data=data).status_code == 303
    assert db.session.scalars(select(ContactMessage)).one().email == "ada@shop.test"


def _post_over_https(client, csrf_token, referer):
    token = csrf_token(client, "/form")
    data = {"csrf_token": token, "name": "Ada", "email": "ada@example.com"}
    return client.post(
        "/form", data=data, base_url="https://localhost", headers={"Referer": referer}
    )


def test_an_https_post_from_this_site_is_accepted(client, db, csrf_token):
    response = _post_over_https(client, csrf_token, "https://localhost/form")

    assert response.status_code == 303
    assert _count(db) == 1


@pytest.mark.parametrize(
    "referer",
    ["http://[::1", "https://[", "https://localhost:99999/form", "https://exa mple.com/form"],
)
def test_an_https_post_with_a_malformed_referer_is_a_400_page(client, db, csrf_token, referer):
    response = _post_over_https(client, csrf_token, referer)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "did not come from this site" in response.get_data(as_text=True)
    assert _count(db) == 0


def test_posts_from_one_address_are_limited_and_the_limit_is_a_page(
    app, client, db, csrf_token, monkeypatch
):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "RATELIMIT_CONTACT_PER_IP", "2 per hour")
    token = csrf_token(client, "/form")
    data = {"csrf_token": token, "name": "Ada", "email": "ada@example.com", "message": "Hi!"}

    assert [client.post("/form", data=data).status_code for _ in range(2)] == [303, 303]
    refused = client.post("/form", data=data)

    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many messages from your address" in refused.get_data(as_text=True)
    assert "Tell us about it" not in refused.get_data(as_text=True)  # the form that refused
    assert _count(db) == 2
    assert client.get("/form").status_code == 200  # reading the form is free


@pytest.mark.parametrize("field", ["name", "message"])
def test_a_nul_character_is_a_field_error_and_stores_nothing(client, db, csrf_token, field):
    """PostgreSQL cannot store U+0000 in text: it is refused on the form, not by the database."""
    data = {"csrf_token": csrf_token(client, "/form"), "name": "Ada", "email": "ada@example.com"}
    data[field] = "Hello\x00there"

    response = client.post("/form", data=data)

    assert response.status_code == 400
    assert f'id="{field}-error">Contains characters we cannot store.' in response.text
    assert _count(db) == 0
