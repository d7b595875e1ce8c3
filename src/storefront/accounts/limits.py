"""Rate limits of the account routes (Flask-Limiter), shared by the API and the pages.

Each limit reads its value (`"5 per 15 minutes"`) from the app's config at request time,
so an operator sets them through the environment and a test through `app.config`. Limits
are shared by scope, so `/api/login` and the `/login` page spend one budget; only POSTs
count (showing a form is free). The per-account login limit counts only failed attempts:
a streak of wrong passwords slows that account, not the whole site, and not a user who
types the right one.
"""

from __future__ import annotations

from flask import current_app, g, request

from ..extensions import limiter

#: Set by a login route when the credentials were wrong; the per-account limit counts it.
LOGIN_FAILED = "login_failed"


@limiter.request_filter
def _limits_switched_off() -> bool:
    """`RATELIMIT_ENABLED` is read per app and per request (the limiter object is shared)."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _setting(name: str):
    return lambda: current_app.config[name]


def _login_name() -> str:
    """The account a login attempt names, from a JSON body or a form, normalised."""
    body = request.get_json(silent=True) if request.is_json else None
    name = body.get("username") if isinstance(body, dict) else request.form.get("username")
    return f"account:{name.strip().casefold() if isinstance(name, str) else ''}"


def _login_failed(_response) -> bool:
    return bool(g.get(LOGIN_FAILED, False))


login_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_LOGIN_PER_IP"),
    scope="login-ip",
    methods=["POST"],
    error_message="Too many login attempts from your address. Try again later.",
)
login_per_account = limiter.shared_limit(
    _setting("RATELIMIT_LOGIN_PER_ACCOUNT"),
    scope="login-account",
    methods=["POST"],
    key_func=_login_name,
    deduct_when=_login_failed,
    error_message="Too many failed logins for this account. Try again later.",
)
register_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_REGISTER_PER_IP"),
    scope="register-ip",
    methods=["POST"],
    error_message="Too many registrations from your address. Try again later.",
)
reset_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_RESET_PER_IP"),
    scope="reset-ip",
    methods=["POST"],
    error_message="Too many password reset requests. Try again later.",
)
resend_per_ip = limiter.shared_limit(
    _setting("RATELIMIT_RESEND_PER_IP"),
    scope="resend-ip",
    methods=["POST"],
    error_message="Too many confirmation requests. Try again later.",
)
