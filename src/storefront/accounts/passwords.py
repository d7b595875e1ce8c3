"""The password policy: long enough, not only blanks, not the account's own name, not a
well-known password.

Used by registration, password change, reset and the CLI, so every way to set a password
gets the same rule and the same field error.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from ..apikit import ApiError, invalid_input, shows_something

MIN_LENGTH = 10
#: The policy in a sentence, shown beside every field where a new password is chosen.
PASSWORD_RULES = (
    f"At least {MIN_LENGTH} characters; not your username or email, and not a well-known password."
)
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def canonical_password(password: str) -> str:
    """The password as it is hashed and checked: Unicode NFKC (NIST SP 800-63B).

    The same typed text can reach the shop as composed or decomposed characters (`é` as
    one code point or as `e` and a combining accent, depending on the keyboard and the
    system), so each form must name one password.
    """
    return unicodedata.normalize("NFKC", password)


def password_problem(password: str, *, username: str | None, email: str | None) -> str | None:
    """Why `password` is refused for this account, or None when it is acceptable.

    Its length counts both as typed and normalized: one typed character such as U+FDFA
    becomes 18 under NFKC, and must not pass for a long password.
    """
    typed, password = password, canonical_password(password)
    if min(len(typed), len(password)) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if not shows_something(password):
        return "must not be only whitespace or invisible characters"
    lowered = password.casefold()
    own_names = {n.casefold() for n in (username, email) if n}
    if email:
        own_names.add(email.split("@", 1)[0].casefold())
    if lowered in own_names:
        return "must not be your username or email address"
    if lowered in common_passwords():
        return "is too common; choose a less guessable password"
    return None


def check_password_policy(
    password: str, *, username: str | None, email: str | None, field: str = "password"
) -> None:
    """Raise a 400 `ApiError` naming `field` when the policy refuses `password`."""
    problem = password_problem(password, username=username, email=email)
    if problem is not None:
        raise ApiError(invalid_input({field: problem}), fields={field: problem})
