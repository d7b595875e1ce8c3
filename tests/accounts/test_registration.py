"""Registration with email confirmation, through the API and a real SMTP server."""

from __future__ import annotations

import pytest

from .helpers import PASSWORD, confirm_token, login, register


def test_signup_mail_link_confirm_then_login(client, mail_outbox):
    response = register(client, "ann")
    assert response.status_code == 201
    assert response.json["confirmed"] is False

    message = mail_outbox.last_to("ann@example.com")
    assert message["Subject"] == "Confirm your Storefront account"
    link = mail_outbox.link_in(message, "/confirm/")
    assert link.startswith("http://127.0.0.1:5000/confirm/")
    assert link in message.get_body(preferencelist=("html",)).get_content()

    confirmed = client.post(
        "/api/confirm", json={"token": confirm_token(mail_outbox, "ann@example.com")}
    )
    assert confirmed.status_code == 200
    assert confirmed.json["user"]["confirmed"] is True

    logged_in = login(client, "ann")
    assert logged_in.status_code == 200
    assert client.get("/api/me").json["username"] == "ann"


def test_a_test_app_has_the_mail_delivered_before_the_answer(client, mail_outbox, smtp_server):
    """Under TESTING a test may read its SMTP server straight after the request."""
    assert register(client, "abe").status_code == 201

    with smtp_server.collector.lock:
        received = [str(m["To"]) for m in smtp_server.collector.messages]
    assert received == ["abe@example.com"]


def test_unconfirmed_user_cannot_log_in_and_is_told_how_to_resend(client, mail_outbox):
    register(client, "cid")

    response = login(client, "cid")

    assert response.status_code == 403
    assert "Confirm your email address" in response.json["error"]
    assert response.json["resend_url"] == "/api/confirm/resend"
    assert client.get("/api/me").status_code == 401


def test_wrong_password_of_an_unconfirmed_user_is_a_plain_401(client, mail_outbox):
    register(client, "dan")

    response = login(client, "dan", "not-the-password-at-all")

    assert response.status_code == 401
    assert "confirm" not in response.json["error"].lower()


def test_operator_can_switch_confirmation_off(client, mail_outbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_CONFIRMATION", False)
    register(client, "eve")

    assert login(client, "eve").status_code == 200


def test_resend_sends_a_new_link_and_the_old_one_is_superseded(client, mail_outbox):
    register(client, "fay")
    first = confirm_token(mail_outbox, "fay@example.com")

    response = client.post("/api/confirm/resend", json={"email": "FAY@example.com"})
    assert response.status_code == 202
    second = confirm_token(mail_outbox, "fay@example.com")
    assert second != first

    stale = client.post("/api/confirm", json={"token": first})
    assert stale.status_code == 400
    assert client.post("/api/confirm", json={"token": second}).status_code == 200


def test_resend_does_not_reveal_whether_an_email_exists(client, mail_outbox, user):
    register(client, "gus")
    answers = [
        client.post("/api/confirm/resend", json={"email": email})
        for email in ("gus@example.com", "nobody@example.com", user.email)
    ]

    assert {a.status_code for a in answers} == {202}
    assert len({a.get_data() for a in answers}) == 1
    # Only the unconfirmed account gets mail: nothing for strangers or confirmed users.
    assert len(mail_outbox.to("gus@example.com")) == 2
    assert mail_outbox.to("nobody@example.com") == []
    assert mail_outbox.to(user.email) == []


def test_smtp_down_keeps_the_account_and_resend_works_once_it_is_back(client, mail_outbox, caplog):
    mail_outbox.stop()
    response = register(client, "ida")
    assert response.status_code == 201
    assert mail_outbox.messages == []
    assert "not delivered" in caplog.text

    mail_outbox.start()
    assert client.post("/api/confirm/resend", json={"email": "ida@example.com"}).status_code == 202
    token = confirm_token(mail_outbox, "ida@example.com")
    assert client.post("/api/confirm", json={"token": token}).status_code == 200
    assert login(client, "ida").status_code == 200


def test_registration_refuses_a_weak_password_with_a_field_error(client, mail_outbox):
    response = register(client, "jon", password="short")

    assert response.status_code == 400
    assert "10 characters" in response.json["fields"]["password"]
    assert mail_outbox.messages == []


def test_no_password_or_hash_in_the_answer(client, mail_outbox):
    body = register(client, "kim").get_data(as_text=True)

    assert PASSWORD not in body
    assert "argon2" not in body
    assert "password" not in body


def test_emails_are_compared_case_insensitively(client, mail_outbox, user):
    assert register(client, "mia", user.email.upper()).status_code == 409

    response = register(client, "noa", "Noa.Mixed@Example.COM")
    assert response.json["email"] == "noa.mixed@example.com"


def test_usernames_that_differ_only_in_case_are_one_name(client, mail_outbox, user_factory):
    user_factory(username="erin")

    for variant in ("Erin", "ERIN"):
        response = register(client, variant, f"{variant}.two@example.com")
        assert response.status_code == 409
        assert response.json["fields"] == {"username": "already taken"}

    response = register(client, "Fenna")
    assert response.json["username"] == "Fenna"
    assert register(client, "fenna", "fenna2@example.com").status_code == 409


def test_the_database_refuses_a_case_variant_that_slips_past_the_check(
    client, mail_outbox, user_factory, checked_too_early
):
    """Two registrations at once both pass the service's check; the unique index decides."""
    user_factory(username="erin")
    checked_too_early("storefront.accounts.service._ensure_free")

    response = register(client, "Erin", "erin.two@example.com")

    assert response.status_code == 409
    assert response.json["fields"] == {"username": "already taken"}


def test_cli_create_user_refuses_a_case_variant_username(run_cli, user_factory):
    user_factory(username="erin")

    result = run_cli("create-user", "ERIN", "erin2@example.com", "--password", PASSWORD)

    assert result.exit_code == 1
    assert "username is taken" in result.output


@pytest.mark.parametrize("domain", ["shop.test", "printer.local", "dev.localhost"])
def test_addresses_at_local_and_test_domains_can_register_and_get_mail(client, mail_outbox, domain):
    response = register(client, "tess", email=f"tess@{domain}")
    assert response.status_code == 201, response.json
    assert mail_outbox.last_to(f"tess@{domain}")["Subject"] == "Confirm your Storefront account"


@pytest.mark.parametrize("address", ["tess@nowhere.invalid", "tess@hidden.onion"])
def test_addresses_at_domains_that_cannot_take_mail_are_refused(client, mail_outbox, address):
    response = register(client, "tess", email=address)
    assert response.status_code == 400
    assert "email" in response.json["fields"]


#: Addresses a mail header decodes (RFC 2047) into another mailbox, or into a header of its own.
ENCODED_WORD_ADDRESSES = [
    "=?utf-8?q?evil?=@example.com",
    "=?utf-8?q?x=0d=0abcc=3a_y=40evil.example?=@corp.example",
]


@pytest.mark.parametrize("address", ENCODED_WORD_ADDRESSES)
def test_an_address_a_mail_header_would_decode_is_refused(client, mail_outbox, user, address):
    response = register(client, "tess", email=address)
    assert response.status_code == 400
    assert "=?" in response.json["fields"]["email"]
    client.post("/api/login", json={"username": user.username, "password": user.password})
    change = client.patch(f"/api/users/{user.id}", json={"email": address})
    assert change.status_code == 400
    assert mail_outbox.messages == []


@pytest.mark.parametrize("address", ENCODED_WORD_ADDRESSES)
def test_mail_to_a_stored_address_a_header_would_decode_is_not_sent_and_logged(
    client, mail_outbox, user_factory, caplog, address
):
    """An account made before such addresses were refused: its mail goes nowhere else."""
    user_factory(email=address)

    response = client.post("/api/password-reset", json={"email": address})

    assert response.status_code == 202
    assert mail_outbox.messages == []
    assert f"mail to={address!r} subject='Reset your Storefront password' not sent" in caplog.text


@pytest.mark.parametrize(
    ("address", "delivered_to"),
    [
        ("ana@exämple.com", "ana@xn--exmple-cua.com"),  # the domain in ASCII, as servers read it
        ("josé@example.com", "josé@example.com"),  # sent as UTF-8 to a server with SMTPUTF8
    ],
)
def test_an_address_beyond_ascii_gets_its_mail_and_confirms(
    client, mail_outbox, address, delivered_to
):
    assert register(client, "tess", email=address).status_code == 201

    message = mail_outbox.last_to(delivered_to)
    assert str(message["To"]) == delivered_to
    token = confirm_token(mail_outbox, delivered_to)
    assert client.post("/api/confirm", json={"token": token}).status_code == 200
    assert login(client, address).status_code == 200


@pytest.mark.parametrize("name", ["Zoë", "two words", "semi;colon"])
def test_a_username_outside_its_characters_says_which_are_allowed(client, run_cli, name):
    """Not pydantic's "String should match pattern '^[A-Za-z0-9_.-]+$'"."""
    allowed = "may hold only letters A-Z, digits, '.', '-' and '_'"

    response = register(client, name, "named@example.com")
    command = run_cli("create-user", name, "named@example.com", "--password", PASSWORD)

    assert response.status_code == 400
    assert response.json["fields"] == {"username": allowed}
    assert command.output == f"Error: username: {allowed}\n"
