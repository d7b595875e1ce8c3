"""Signed, expiring, purpose-bound, single-use account tokens (email links).

A token is itsdangerous-signed `[user_id, nonce]` with the purpose as salt, so a
confirmation token is no reset token. The nonce is also stored on the user row; issuing a
new token or using one replaces it, which is what makes a used or superseded token
worthless even while its signature and age are fine.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..apikit import is_row_id


class Purpose(StrEnum):
    CONFIRM = "confirm-email"
    RESET = "reset-password"


class TokenError(Exception):
    """The token is malformed, tampered with, expired, for another purpose, or used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"storefront.{purpose}")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def make_token(purpose: Purpose, user_id: int, nonce: str) -> str:
    return _serializer(purpose).dumps([user_id, nonce])


def read_token(purpose: Purpose, token: str) -> tuple[int, str]:
    """`(user_id, nonce)` of a genuine, unexpired token of `purpose`; TokenError otherwise."""
    max_age = current_app.config["ACCOUNT_TOKEN_MAX_AGE_SECONDS"]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("This link has expired. Ask for a new one.") from None
    except BadSignature:
        raise TokenError("This link is invalid.") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not is_row_id(payload[0])
        or not isinstance(payload[1], str)
    ):
        raise TokenError("This link is invalid.")
    return payload[0], payload[1]
