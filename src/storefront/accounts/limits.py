"""Rate limits of the account routes (Flask-Limiter), shared by the API and the pages.

Each limit reads its value (`"5 per 15 minutes"`) from the app's config at request time,
so an operator sets them through the environment and a test through `app.config`. Limits
are shared by scope, so `/api/login` and the `/login` page spend one budget; only what is
sent counts (POSTs, and a password change's PATCH): showing a form is free. The per-account
login limit counts only failed attempts: a streak of wrong passwords slows that account,
not the whole site, and not a user who types the right one. It is kept per account, not
per string typed, so the username (in any case) and the email address of one account
spend one budget; and per address, so a stranger guessing from elsewhere cannot lock the
owner out. A looser budget per account, from every address together, bounds guessing
spread over many addresses; it never refuses a browser that has logged in to the account
before (`remember_device`), so guesses from many addresses cannot lock the owner out either.
The per-address login limit counts only failed attempts too: many people behind one
address (an office, a proxy, a test suite) who log in rightly are never refused, while
guessing from that address is. A wrong `current_password` in a password
change spends the account's budget too, so a stolen session cannot try passwords faster
than a login could. Using a reset link counts only failures, apart from asking for links;
how many links one inbox gets is the service's `RATELIMIT_MAIL_PER_ADDRESS` budget, which
answers no differently.

API routes apply their limits below `@bp.input`, so a body that fails validation is a 400
that spends nothing, as one that is not JSON at all already was (the request guard refuses
it before any view): a client sending garbage hears what is wrong with it, and only
well-formed attempts use up the budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadData, URLSafeTimedSerializer
from pydantic import TypeAdapter, ValidationError

from ..auth import current_user
from ..extensions import db, limiter, visitor_address
from ..sessions import set_cookie_after_session
from . import service
from .models import User
from .schemas import LoginName

#: How the API documents the 429 these limits answer.
RATE_LIMITED = "Too many attempts: retry after Retry-After seconds"

#: Set (`count_failed_login`) when the credentials were wrong; the per-account limit counts it.
LOGIN_FAILED = "login_failed"
#: The cookie of a browser that has logged in to an account (`remember_device`).
KNOWN_DEVICE_COOKIE = "storefront_device"
KNOWN_DEVICE_SECONDS = 365 * 24 * 3600


@limiter.request_filter
def _limits_switched_off() -> bool:
    """`RATELIMIT_ENABLED` is read per app and per request (the limiter object is shared)."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _setting(name: str):
    return lambda: current_app.config[name]


_LOGIN_NAME = TypeAdapter(LoginName)


def _submitted(field: str) -> Any:
    """A field of the request, from its JSON body or its form (the API and the pages)."""
    body = request.get_json(silent=True) if request.is_json else None
    return body.get(field) if isinstance(body, dict) else request.form.get(field)


def _login_name() -> str | None:
    """The name a login attempt gives; None if it is no name."""
    try:
        return _LOGIN_NAME.validate_python(_submitted("username"), strict=True)
    except ValidationError:
        return None


def _login_account() -> str:
    """The key of the account a login attempt names: its user id, else the name normalised.

    The lookup is the one login makes, done for every well-formed name, so an unknown
    account costs the same; a name the login route would refuse is not looked up at all.
    """
    name = _login_name()
    if name is None:
        return "name:"
    user = service.find_by_login(name)
    if user is not None:
        return f"user:{user.id}"
    # Normalised as the lookup normalises: another rule (casefold: `ſusan` is `susan`) put an
    # unknown spelling in an existing account's bucket or not, and the 429 told which. Hashed,
    # so a password typed into the name field is not written to the log with the key.
    return "name:" + hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]


def _own_account() -> str:
    """The key (as `_login_account`'s) of the logged-in account, whose password a change checks."""
    user = current_user()
    return f"user:{user.id}" if user is not None else "name:"


def _checks_no_password() -> bool:
    """A change giving no `current_password` (an email, an admin's) meets no password limit."""
    return _submitted("current_password") in (None, "")


def count_failed_login() -> None:
    """Count this request against the login limits: it gave a wrong password."""
    g.setdefault(LOGIN_FAILED, True)


def _login_failed(_response) -> bool:
    return bool(g.get(LOGIN_FAILED, False))


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="storefront-known-device")


def _password_stamp(user: User) -> str:
    """A mark of the account's current password: a new password voids the devices known (a
    rehash of the same password, when the hashing settings change, does not). In UTC, as
    the database may hand the time back in its session's own time zone."""
    changed = user.password_changed_at or user.created_at
    return changed.astimezone(UTC).isoformat()


def remember_device(user: User) -> None:
    """After a right password, mark this browser as one the account logs in from (a signed
    cookie, `KNOWN_DEVICE_COOKIE`): the account's budget from every address, which a
    stranger spending it from many addresses could use up, then never refuses it. The mark
    holds for the password it was earned with (`User.password_changed_at`), so whoever
    logged in with an old one cannot use it to guess the new one from many addresses."""
    set_cookie_after_session(
        key=KNOWN_DEVICE_COOKIE,
        value=_device_signer().dumps([user.id, _password_stamp(user)]),
        max_age=KNOWN_DEVICE_SECONDS,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def _known_device_of(account: Callable[[], str]) -> Callable[[], bool]:
    """Whether this browser has logged in to the account an attempt names, with its
    current password."""

    def known() -> bool:
        token = request.cookies.get(KNOWN_DEVICE_COOKIE)
        if not token:
            return False
        try:
            user_id, stamp = _device_signer().loads(token, max_age=KNOWN_DEVICE_SECONDS)
        except (BadData, TypeError, ValueError):
            return False
        if account() != f"user:{user_id}":
            return False
        user = db.session.get(User, user_id)
        return user is not None and stamp == _password_stamp(user)

    return known


login_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_LOGIN_PER_IP"),
    scope="login-ip",
    methods=["POST"],
    deduct_when=_login_failed,
    error_message="Too many login attempts from your address.",
)


def _failed_password_limits(
    account: Callable[[], str],
    message: str,
    methods: list[str],
    exempt_when: Callable[[], bool] = lambda: False,
):
    """The account's two budgets of wrong passwords: from this address, and from anywhere;
    a browser that has logged in to the account before meets only the first."""
    known_device = _known_device_of(account)
    from_here = limiter.shared_limit(
        _setting("RATELIMIT_LOGIN_PER_ACCOUNT"),
        scope="login-account",
        methods=methods,
        key_func=lambda: f"{account()}@{visitor_address()}",
        deduct_when=_login_failed,
        exempt_when=exempt_when,
        error_message=message,
    )
    from_anywhere = limiter.shared_limit(
        _setting("RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL"),
        scope="login-account-total",
        methods=methods,
        key_func=account,
        deduct_when=_login_failed,
        exempt_when=lambda: exempt_when() or known_device(),
        error_message=message,
    )
    return lambda view: from_here(from_anywhere(view))


login_per_account = _failed_password_limits(
    _login_account,
    "Too many failed logins for this account.",
    methods=["POST"],
)
password_check_per_account = _failed_password_limits(
    _own_account,
    "Too many wrong passwords for this account.",
    methods=["PATCH", "POST"],
    exempt_when=_checks_no_password,
)
register_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_REGISTER_PER_IP"),
    scope="register-ip",
    methods=["POST"],
    error_message="Too many registrations from your address.",
)
reset_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_RESET_PER_IP"),
    scope="reset-ip",
    methods=["POST"],
    error_message="Too many password reset requests.",
)
reset_token_failures_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_RESET_PER_IP"),
    scope="reset-token-ip",
    methods=["POST"],
    deduct_when=lambda response: response.status_code >= 400,
    error_message="Too many failed password resets.",
)
resend_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_RESEND_PER_IP"),
    scope="resend-ip",
    methods=["POST"],
    error_message="Too many confirmation requests.",
)
