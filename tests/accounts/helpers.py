"""Small helpers shared by the account tests."""

from __future__ import annotations

from typing import Any

PASSWORD = "plum-orchard-lantern-42"


def register(client: Any, username: str = "newbie", email: str | None = None, **extra: Any):
    """POST /api/users with a policy-proof password."""
    body = {"username": username, "email": email or f"{username}@example.com"}
    body["password"] = extra.pop("password", PASSWORD)
    return client.post("/api/users", json={**body, **extra})


def login(client: Any, username: str, password: str = PASSWORD, **headers: Any):
    return client.post(
        "/api/login", json={"username": username, "password": password}, headers=headers
    )


def confirm_token(mail_outbox: Any, address: str) -> str:
    return mail_outbox.last_token(address, "/confirm/")


def reset_token(mail_outbox: Any, address: str) -> str:
    return mail_outbox.last_token(address, "/reset/")
