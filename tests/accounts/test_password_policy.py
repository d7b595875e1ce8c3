"""The password policy, applied to registration, password change, reset and the CLI."""

from __future__ import annotations

import pytest

from .helpers import register, reset_token

BLANKS = " " * 12
BLANK_REFUSAL = "must not be only whitespace or invisible characters"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("nine-char", "at least 10 characters"),
        ("carlotta99", "not be your username"),
        ("Carlotta99@mail.example.com", "not be your username or email"),
        ("qwertyuiop", "too common"),
        ("Password123", "too common"),
        ("1234567890", "too common"),
        ("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11\uff12\uff13", "too common"),
        (" " * 10, "only whitespace"),
        ("\t \n\u3000" * 3, "only whitespace"),
        ("\u200b" * 12, "only whitespace or invisible characters"),
        ("\ufdfa", "at least 10 characters"),
        ("e\u0301" * 5, "at least 10 characters"),  # 10 code points typed, 5 letters
    ],
)
def test_registration_refuses_weak_passwords(client, mail_outbox, password, reason):
    response = register(client, "carlotta99", "carlotta99@mail.example.com", password=password)

    assert response.status_code == 400
    assert reason in response.json["fields"]["password"]
    assert "password" in response.json["error"]


def test_a_long_uncommon_password_is_accepted(client, mail_outbox):
    assert register(client, "dora", password="tangerine-kettle-drum").status_code == 201


def test_password_change_applies_the_policy(client, user, login_as):
    login_as(client, user)

    response = client.patch(
        f"/api/users/{user.id}",
        json={"password": user.email, "current_password": user.password},
    )

    assert response.status_code == 400
    assert "username" in response.json["fields"]["password"]


def test_a_new_password_without_the_current_one_is_refused_saying_so(client, user, login_as):
    login_as(client, user)

    response = client.patch(f"/api/users/{user.id}", json={"password": "brand-new-secret-99"})

    assert response.status_code == 400
    assert response.json["fields"] == {"current_password": "required to set a new password"}
    assert "wrong" not in response.json["error"]


def test_cli_create_user_applies_the_policy(run_cli):
    result = run_cli("create-user", "cli-user", "cli@example.com", "--password", "letmein123")

    assert result.exit_code == 1
    assert "too common" in result.output


def test_password_change_refuses_a_password_of_only_whitespace(client, user, login_as):
    login_as(client, user)

    response = client.patch(
        f"/api/users/{user.id}", json={"password": BLANKS, "current_password": user.password}
    )

    assert response.status_code == 400
    assert response.json["fields"] == {"password": BLANK_REFUSAL}


def test_reset_refuses_a_password_of_only_whitespace(client, mail_outbox, user):
    client.post("/api/password-reset", json={"email": user.email})
    token = reset_token(mail_outbox, user.email)

    response = client.post("/api/password-reset/confirm", json={"token": token, "password": BLANKS})

    assert response.status_code == 400
    assert response.json["fields"] == {"password": BLANK_REFUSAL}


def test_cli_create_user_refuses_a_password_of_only_whitespace(run_cli):
    result = run_cli("create-user", "cli-blank", "blank@example.com", "--password", BLANKS)

    assert result.exit_code == 1
    assert "only whitespace" in result.output
