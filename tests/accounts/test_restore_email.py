"""The link mailed to the old address when an account's email changes: its owner takes the
account back from whoever changed it from a session they should not have had."""

from __future__ import annotations

import re

import pytest

from storefront.accounts.views import RESTORE_TAKEN, RESTORED

from .helpers import login, reset_token

STOLEN = "thief@example.com"


@pytest.fixture
def taken(app, client, mail_outbox, user, login_as):
    """`user`'s email changed by someone holding a session of theirs, who then asked for a
    reset link at the new address; returns (that session, the restore path, the old email)."""
    old_email = user.email
    thief = app.test_client()
    login_as(thief, user)
    assert thief.patch(f"/api/users/{user.id}", json={"email": STOLEN}).status_code == 200
    thief.post("/api/password-reset", json={"email": STOLEN})
    link = mail_outbox.link_in(mail_outbox.last_to(old_email), "/account/restore-email/")
    return thief, re.sub(r"^https?://[^/]+", "", link), old_email


def _button_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_the_old_address_gets_the_account_back_and_everyone_is_logged_out(
    client, mail_outbox, user, taken
):
    thief, path, old_email = taken
    thiefs_reset = reset_token(mail_outbox, STOLEN)

    page = client.get(path)
    restored = client.post(path, data={"csrf_token": _button_token(client, path)})

    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f"Give the account back to {old_email}" in page.get_data(as_text=True)
    assert restored.status_code == 303 and restored.headers["Location"] == "/login"
    assert RESTORED.format(email=old_email) in client.get("/login").get_data(as_text=True)
    assert thief.get("/api/me").status_code == 401
    used = {"token": thiefs_reset, "password": "thiefs-new-password-1"}
    assert client.post("/api/password-reset/confirm", json=used).status_code == 400
    assert login(client, old_email, user.password).status_code == 200


def test_opening_the_link_changes_nothing(client, user, taken):
    """A mail scanner opens every link: only the button gives the account back."""
    thief, path, _old_email = taken

    assert client.get(path).status_code == 200
    assert client.head(path).status_code == 200

    assert thief.get("/api/me").json["email"] == STOLEN


def test_a_link_used_already_or_made_up_says_so(client, taken):
    _thief, path, old_email = taken
    client.post(path, data={"csrf_token": _button_token(client, path)})

    again = client.get(path)
    made_up = client.get("/account/restore-email/not-a-token")

    assert again.status_code == 400
    assert f"The account&#39;s email address is {old_email} already." in again.text
    assert made_up.status_code == 400 and "This link is invalid." in made_up.text


def test_an_old_address_another_account_took_meanwhile_is_not_given_back(
    client, user_factory, taken
):
    thief, path, old_email = taken
    token = _button_token(client, path)
    user_factory(email=old_email)

    refused = client.post(path, data={"csrf_token": token})

    assert refused.status_code == 409
    assert RESTORE_TAKEN in refused.text
    assert thief.get("/api/me").json["email"] == STOLEN


def test_the_restore_link_is_kept_out_of_the_log(client, taken, caplog):
    _thief, path, _old_email = taken
    caplog.set_level("INFO", logger="storefront.request")

    client.get(path)

    assert path.rsplit("/", 1)[1] not in caplog.text
    assert "GET /account/restore-email/[token] 200" in caplog.text
