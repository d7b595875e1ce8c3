"""Confirmation and reset tokens: signed, purpose-bound, expiring, single-use."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from storefront.accounts.models import User
from storefront.accounts.tokens import Purpose, make_token
from storefront.testing.mail import html_of, text_of

from .helpers import confirm_token, register, reset_token


@pytest.fixture
def unconfirmed(client, mail_outbox):
    response = register(client, "tia")
    assert response.status_code == 201, response.json
    return "tia@example.com"


def _confirm(client, token):
    return client.post("/api/confirm", json={"token": token})


def test_a_used_confirmation_token_is_refused(client, mail_outbox, unconfirmed):
    token = confirm_token(mail_outbox, unconfirmed)
    assert _confirm(client, token).status_code == 200

    again = _confirm(client, token)

    assert again.status_code == 400
    assert "already been used" in again.json["error"]


def test_a_tampered_token_is_refused(client, mail_outbox, unconfirmed):
    token = confirm_token(mail_outbox, unconfirmed)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = _confirm(client, tampered)

    assert response.status_code == 400
    assert response.json["fields"]["token"] == "This link is invalid."
    assert _confirm(client, "not-a-token").status_code == 400


def test_an_expired_token_is_refused(client, mail_outbox, unconfirmed, monkeypatch):
    max_age = client.application.config["ACCOUNT_TOKEN_MAX_AGE_SECONDS"]
    past = SimpleNamespace(time=lambda: time.time() - max_age - 60)
    with monkeypatch.context() as clock:
        clock.setattr("itsdangerous.timed.time", past)
        client.post("/api/confirm/resend", json={"email": unconfirmed})

    response = _confirm(client, confirm_token(mail_outbox, unconfirmed))

    assert response.status_code == 400
    assert "expired" in response.json["error"]


def test_token_lifetime_is_configurable(client, mail_outbox, unconfirmed, app, monkeypatch):
    token = confirm_token(mail_outbox, unconfirmed)
    later = SimpleNamespace(time=lambda: time.time() + 3 * 3600)
    monkeypatch.setattr("itsdangerous.timed.time", later)
    monkeypatch.setitem(app.config, "ACCOUNT_TOKEN_MAX_AGE_SECONDS", 2 * 3600)

    assert _confirm(client, token).status_code == 400
    monkeypatch.setitem(app.config, "ACCOUNT_TOKEN_MAX_AGE_SECONDS", 4 * 3600)
    assert _confirm(client, token).status_code == 200


@pytest.mark.parametrize(
    ("max_age", "said"),
    [(24 * 3600, "24 hours"), (3600, "1 hour"), (90 * 60, "90 minutes"), (45, "45 seconds")],
)
def test_the_mail_tells_the_configured_lifetime(
    client, mail_outbox, user, app, monkeypatch, max_age, said
):
    """Under an hour it said "expires in 0 hours", and an hour was "1 hours"."""
    monkeypatch.setitem(app.config, "ACCOUNT_TOKEN_MAX_AGE_SECONDS", max_age)
    client.post("/api/password-reset", json={"email": user.email})

    message = mail_outbox.last_to(user.email)
    assert f"expires in {said}." in " ".join(text_of(message).split())
    assert f"expires in {said}." in html_of(message)


def _nonces(db, address):
    user = db.session.scalar(select(User).where(User.email == address))
    return user.id, user.confirm_nonce


def test_a_reset_token_carrying_the_confirmation_nonce_is_no_confirmation(
    app, client, db, mail_outbox, unconfirmed
):
    """Only the purpose differs from a genuine confirmation link: the signature must bind it."""
    user_id, nonce = _nonces(db, unconfirmed)
    with app.app_context():
        other_purpose = make_token(Purpose.RESET, user_id, nonce)

    assert _confirm(client, other_purpose).status_code == 400
    assert _confirm(client, confirm_token(mail_outbox, unconfirmed)).status_code == 200


def test_a_token_of_another_purpose_is_refused(client, mail_outbox, unconfirmed):
    client.post("/api/password-reset", json={"email": unconfirmed})
    reset = reset_token(mail_outbox, unconfirmed)
    confirm = confirm_token(mail_outbox, unconfirmed)

    assert _confirm(client, reset).status_code == 400
    wrong = client.post(
        "/api/password-reset/confirm", json={"token": confirm, "password": "a-new-long-secret-1"}
    )
    assert wrong.status_code == 400
    assert _confirm(client, confirm).status_code == 200


def test_a_reset_link_does_not_open_the_confirmation_page(client, mail_outbox, user):
    client.post("/api/password-reset", json={"email": user.email})
    token = mail_outbox.last_token(user.email, "/reset/")

    assert client.get(f"/confirm/{token}").status_code == 400


def test_a_token_signed_with_another_key_is_refused(client, db, mail_outbox, unconfirmed, make_app):
    """The account and its nonce are right: only the shop's secret key is missing."""
    user_id, nonce = _nonces(db, unconfirmed)
    with make_app(SECRET_KEY="another-shop-" + "k" * 40).app_context():
        forged = make_token(Purpose.CONFIRM, user_id, nonce)

    assert _confirm(client, forged).status_code == 400
    assert _confirm(client, confirm_token(mail_outbox, unconfirmed)).status_code == 200


def test_a_token_field_must_be_a_string(client, mail_outbox):
    assert client.post("/api/confirm", json={"token": 123}).status_code == 400
    assert client.post("/api/confirm", json={}).status_code == 400
    assert client.post("/api/confirm", json={"token": "a\x00b"}).status_code == 400


@pytest.mark.parametrize("user_id", [2**31, 2**63 + 5, 0, True])
def test_a_signed_token_naming_an_impossible_user_is_refused(client, app, user_id):
    """Signing needs SECRET_KEY, yet a leaked or mistaken one must not turn into a 500."""
    with app.app_context():
        token = make_token(Purpose.RESET, user_id, "nonce")
    confirm = client.post(
        "/api/password-reset/confirm", json={"token": token, "password": "x" * 12}
    )
    page = client.get(f"/reset/{token}")
    assert confirm.status_code == 400
    assert page.status_code == 400
