"""Password reset: no enumeration, a single-use link, every old session ends."""

from __future__ import annotations

import threading
import unicodedata

import pytest

from storefront.mail import wait_for_queued_mail

from .helpers import confirm_token, login, reset_token

NEW_PASSWORD = "violet-harbour-compass-7"
UNCONFIRMED = {"username": "una", "email": "una@example.com", "password": NEW_PASSWORD}


def _reset(client, token, password=NEW_PASSWORD):
    return client.post("/api/password-reset/confirm", json={"token": token, "password": password})


def test_reset_request_does_not_reveal_whether_an_email_exists(client, mail_outbox, user):
    known = client.post("/api/password-reset", json={"email": user.email})
    unknown = client.post("/api/password-reset", json={"email": "ghost@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert len(mail_outbox.to(user.email)) == 1
    assert mail_outbox.to("ghost@example.com") == []


def test_reset_link_sets_a_new_password_once(client, mail_outbox, user):
    client.post("/api/password-reset", json={"email": user.email})
    message = mail_outbox.last_to(user.email)
    assert message["Subject"] == "Reset your Storefront password"
    token = reset_token(mail_outbox, user.email)

    assert _reset(client, token).status_code == 200
    assert login(client, user.username, user.password).status_code == 401
    assert login(client, user.username, NEW_PASSWORD).status_code == 200
    reused = _reset(client, token, "another-fine-secret-9")
    assert reused.status_code == 400
    assert login(client, user.username, NEW_PASSWORD).status_code == 200


def test_reset_ends_every_old_session(app, client, mail_outbox, user):
    other_device = app.test_client()
    assert login(other_device, user.username, user.password).status_code == 200
    assert other_device.get("/api/me").status_code == 200

    client.post("/api/password-reset", json={"email": user.email})
    assert _reset(client, reset_token(mail_outbox, user.email)).status_code == 200

    assert other_device.get("/api/me").status_code == 401


def test_reset_ends_a_tutorial_style_session_too(app, client, mail_outbox, user, login_as):
    other_device = app.test_client()
    login_as(other_device, user)
    assert other_device.get("/api/me").status_code == 200

    client.post("/api/password-reset", json={"email": user.email})
    assert _reset(client, reset_token(mail_outbox, user.email)).status_code == 200

    assert other_device.get("/api/me").status_code == 401


def test_a_newer_reset_link_supersedes_the_older(client, mail_outbox, user):
    client.post("/api/password-reset", json={"email": user.email})
    first = reset_token(mail_outbox, user.email)
    client.post("/api/password-reset", json={"email": user.email})
    second = reset_token(mail_outbox, user.email)

    assert _reset(client, first).status_code == 400
    assert _reset(client, second).status_code == 200


def test_the_page_of_a_superseded_reset_link_says_so_before_any_password_is_typed(
    client, mail_outbox, user
):
    client.post("/api/password-reset", json={"email": user.email})
    first = reset_token(mail_outbox, user.email)
    client.post("/api/password-reset", json={"email": user.email})

    page = client.get(f"/reset/{first}")

    assert page.status_code == 400
    assert "already been used or a newer one was sent" in page.get_data(as_text=True)


def test_reset_applies_the_password_policy(client, mail_outbox, user):
    client.post("/api/password-reset", json={"email": user.email})
    token = reset_token(mail_outbox, user.email)

    weak = _reset(client, token, "password123")
    assert weak.status_code == 400
    assert "too common" in weak.json["fields"]["password"]
    assert _reset(client, token).status_code == 200


def test_reset_confirms_an_unconfirmed_account(client, mail_outbox, user_factory):
    pending = user_factory(confirmed=False)
    client.post("/api/password-reset", json={"email": pending.email})

    assert _reset(client, reset_token(mail_outbox, pending.email)).status_code == 200
    assert login(client, pending.username, NEW_PASSWORD).status_code == 200


def test_a_reset_that_confirmed_the_account_uses_up_its_confirmation_link(
    client, mail_outbox, user_factory
):
    pending = user_factory(confirmed=False)
    client.post("/api/confirm/resend", json={"email": pending.email})
    confirmation = confirm_token(mail_outbox, pending.email)
    client.post("/api/password-reset", json={"email": pending.email})
    assert _reset(client, reset_token(mail_outbox, pending.email)).status_code == 200

    assert client.post("/api/confirm", json={"token": confirmation}).status_code == 400


def test_changing_the_password_makes_an_outstanding_reset_link_useless(
    client, mail_outbox, user, login_as
):
    client.post("/api/password-reset", json={"email": user.email})
    token = reset_token(mail_outbox, user.email)
    login_as(client, user)
    changed = client.patch(
        f"/api/users/{user.id}",
        json={"password": NEW_PASSWORD, "current_password": user.password},
    )
    assert changed.status_code == 200

    assert _reset(client, token, "some-other-secret-55").status_code == 400


def test_reset_link_ignores_the_request_host_header(client, mail_outbox, user, app):
    client.post("/api/password-reset", json={"email": user.email}, headers={"Host": "evil.example"})

    link = mail_outbox.link_in(mail_outbox.last_to(user.email), "/reset/")
    assert link.startswith(app.config["PUBLIC_BASE_URL"] + "/reset/")
    assert "evil.example" not in link


def test_tokens_and_passwords_stay_out_of_the_logs(client, mail_outbox, user, caplog):
    caplog.set_level("DEBUG")
    client.post("/api/password-reset", json={"email": user.email})
    token = reset_token(mail_outbox, user.email)
    _reset(client, token)
    login(client, user.username, NEW_PASSWORD)

    # aiosmtpd, the test's stand-in for the mail provider, logs whole messages at DEBUG.
    shop_log = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "POST /api/password-reset/confirm 200" in shop_log
    assert token not in shop_log
    assert NEW_PASSWORD not in shop_log
    assert user.password not in shop_log


def test_the_answer_does_not_wait_for_mail_delivery(client, mail_outbox, user, monkeypatch):
    """Known and unknown addresses answer alike in time too: SMTP work is never awaited."""
    monkeypatch.setitem(client.application.config, "MAIL_IN_BACKGROUND", True)
    answered = threading.Event()
    delivered_after_answer = []

    def slow_delivery(message):
        delivered_after_answer.append(answered.wait(timeout=10))

    monkeypatch.setattr("storefront.mail._deliver_smtp", slow_delivery)
    response = client.post("/api/password-reset", json={"email": user.email})
    answered.set()
    assert response.status_code == 202

    wait_for_queued_mail()
    assert delivered_after_answer == [True]


def test_a_confirmation_link_sent_before_an_email_change_no_longer_works(
    client, mail_outbox, admin, login_as
):
    """It was sent to the old address: it must not confirm the new one."""
    assert client.post("/api/users", json=UNCONFIRMED).status_code == 201
    token = confirm_token(mail_outbox, UNCONFIRMED["email"])
    login_as(client, admin)
    uid = client.get("/api/users").get_json()[-1]["id"]
    assert client.patch(f"/api/users/{uid}", json={"email": "moved@example.com"}).status_code == 200

    response = client.post("/api/confirm", json={"token": token})

    assert response.status_code == 400
    assert client.get(f"/api/users/{uid}").get_json()["confirmed"] is False


def test_a_reset_link_sent_before_an_email_change_no_longer_works(client, mail_outbox, user):
    client.post("/api/password-reset", json={"email": user.email})
    old_link = reset_token(mail_outbox, user.email)
    assert login(client, user.username, user.password).status_code == 200
    moved = client.patch(f"/api/users/{user.id}", json={"email": "moved@example.com"})
    assert moved.status_code == 200

    assert _reset(client, old_link).status_code == 400
    assert login(client, user.username, user.password).status_code == 200


@pytest.mark.parametrize("path", ["/api/password-reset", "/api/confirm/resend"])
def test_known_and_unknown_addresses_get_the_same_headers(app, mail_outbox, user_factory, path):
    """Not only the body: a `Vary: Cookie` sent only when a mail went out told them apart."""
    pending = user_factory(confirmed=False)
    known = app.test_client().post(path, json={"email": pending.email})
    unknown = app.test_client().post(path, json={"email": "ghost@example.com"})

    assert len(mail_outbox.to(pending.email)) == 1
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    del known.headers["X-Request-ID"], unknown.headers["X-Request-ID"]
    assert sorted(known.headers.items()) == sorted(unknown.headers.items())


@pytest.mark.parametrize("path", ["/api/password-reset", "/api/confirm/resend"])
@pytest.mark.parametrize("address", ["not an address", "bob@", "@example.com", "a@b@c"])
def test_text_that_is_no_address_gets_the_same_202_and_no_mail(client, mail_outbox, path, address):
    """API.md: these answer 202 always; text that is no address matches no account."""
    unknown = client.post(path, json={"email": "ghost@example.com"})

    response = client.post(path, json={"email": address})

    assert response.status_code == 202
    assert response.get_data() == unknown.get_data()
    assert mail_outbox.messages == []


@pytest.mark.parametrize("path", ["/api/password-reset", "/api/confirm/resend"])
@pytest.mark.parametrize("text", ["", "a" * 255])
def test_no_text_or_more_than_any_address_holds_is_a_400(client, mail_outbox, path, text):
    response = client.post(path, json={"email": text})

    assert response.status_code == 400
    assert set(response.json["fields"]) == {"email"}


@pytest.mark.parametrize(
    "typed",
    [
        "Ada Bücher <ada@bücher.example>",  # with a display name
        "ada@xn--bcher-kva.example",  # the domain as DNS spells it
        unicodedata.normalize("NFD", "ada@bücher.example"),  # ü as u and a combining mark
    ],
)
def test_a_reset_finds_the_account_however_its_address_is_written(
    client, mail_outbox, user_factory, typed
):
    user_factory(email="ada@bücher.example")

    assert client.post("/api/password-reset", json={"email": typed}).status_code == 202
    assert [message["To"] for message in mail_outbox.messages] == ["ada@xn--bcher-kva.example"]


def test_a_link_that_matches_no_route_keeps_its_token_out_of_the_log(
    client, mail_outbox, user, caplog
):
    caplog.set_level("INFO", logger="storefront.request")
    client.post("/api/password-reset", json={"email": user.email})
    token = reset_token(mail_outbox, user.email)

    assert client.put(f"/reset/{token}").status_code == 405
    assert client.get(f"/reset/{token}/").status_code == 404
    assert client.post(f"/confirm/{token}").status_code == 405
    assert client.get("/confirm/resend").status_code == 200

    shop_log = "\n".join(r.getMessage() for r in caplog.records if r.name == "storefront.request")
    assert token not in shop_log
    assert "PUT /reset/[token] 405" in shop_log
    assert "GET /reset/[token]/ 404" in shop_log
    assert "GET /confirm/resend 200" in shop_log
