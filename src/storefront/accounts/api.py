"""Accounts API: users, registration and confirmation, login, sessions, password reset."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import abort, url_for

from .. import sessions
from ..apikit import ApiError, PageQuery, created_headers, empty_response, page_headers, paginate
from ..auth import current_user, login_required, role_required
from ..openapi import error_answer
from . import limits, service
from .models import User
from .schemas import (
    EmailIn,
    LoginIn,
    LogoutQuery,
    MessageOut,
    MessageWithUserOut,
    ResetConfirmIn,
    SessionOut,
    TokenIn,
    UserCreate,
    UserOut,
    UserUpdate,
)
from .tokens import TokenError

bp = APIBlueprint("accounts_api", __name__, url_prefix="/api", tag="Accounts")


def _visible_user(user_id: int) -> User:
    """The account if the caller may see it; 404 otherwise, so existence does not leak."""
    me = current_user()
    assert me is not None
    user = service.visible_user(me, user_id)
    if user is None:
        abort(404, description="No such user.")
    return user


def _token_error(error: TokenError) -> ApiError:
    return ApiError(error.reason, fields={"token": error.reason})


@bp.post("/users")
@bp.input(UserCreate, arg_name="body")
@limits.register_per_ip
@bp.output(UserOut, status_code=201)
@bp.doc(responses={409: "Username (in any case) or email taken", 429: limits.RATE_LIMITED})
def register(body: UserCreate):
    """Register a customer account; a confirmation link is mailed to it."""
    user = service.create_user(body.username, body.email, body.password)
    return user, 201, created_headers("accounts_api.get_user", user_id=user.id)


@bp.get("/users")
@role_required("admin")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(list[UserOut])
def list_users(query: PageQuery):
    """Every account, oldest first (admins only)."""
    users, total = paginate(service.accounts_oldest_first(), query)
    return users, 200, page_headers(total, query)


@bp.get("/users/<int:user_id>")
@login_required
@bp.output(UserOut)
def get_user(user_id: int):
    """One account: your own, or any for an admin."""
    return _visible_user(user_id)


@bp.patch("/users/<int:user_id>")
@login_required
@bp.input(UserUpdate, arg_name="body")
@limits.password_check_per_account
@bp.output(UserOut)
@bp.doc(
    responses={
        409: "That email is already registered, or this is the last admin stepping down",
        429: limits.RATE_LIMITED,
    }
)
def update_user(user_id: int, body: UserUpdate):
    """Change email or password (with `current_password`); admins may also change `role`.

    A wrong `current_password` counts as a failed login of the account.
    """
    user = _visible_user(user_id)
    acting = current_user()
    changes = body.model_dump(exclude_unset=True)
    try:
        updated = service.update_user(
            user,
            acting=acting,
            keep_session_id=sessions.current_session_id(),
            **changes,
        )
    except service.WrongPassword:
        limits.count_failed_login()
        raise
    if changes.get("password") and updated.id == acting.id:
        limits.remember_device(updated)  # the mark follows the new password
    return updated


@bp.delete("/users/<int:user_id>")
@login_required
@bp.output({}, status_code=204)
@bp.doc(responses={409: "The shop's last admin"})
def delete_user(user_id: int):
    """Delete an account: your own, or any for an admin; never the last admin."""
    user = _visible_user(user_id)
    acting = current_user()
    own = user.id == acting.id
    service.delete_user(user, acting=acting)
    if own:
        sessions.end_current_session()
    return empty_response()


@bp.post("/login")
@bp.input(LoginIn, arg_name="body")
@limits.login_per_ip
@limits.login_per_account
@bp.output(MessageWithUserOut)
@bp.doc(
    responses={
        401: "Wrong username or password (the same answer for an unknown user)",
        403: error_answer(
            "Email not confirmed yet (or a cross-site request)",
            resend_url={"type": "string", "description": "Where to ask for a new link."},
        ),
        429: limits.RATE_LIMITED,
    }
)
def login(body: LoginIn):
    """Log in with username (or email) and password; starts a fresh session.

    403 when the email address is not confirmed yet (the answer says how to resend).
    """
    try:
        user = service.log_in(body.username, body.password)
    except service.NotConfirmed as refusal:
        refusal.extra["resend_url"] = url_for("accounts_api.resend_confirmation")
        raise
    if user is None:
        limits.count_failed_login()
        abort(401, description="Wrong username or password.")
    limits.remember_device(user)
    return {"message": "Login successful", "user": user}


@bp.post("/logout")
@bp.input(LogoutQuery, location="query", arg_name="query")
@bp.output(MessageOut)
def logout(query: LogoutQuery):
    """End this session (`?all=1`: every session of the user); its cookie is worthless after."""
    user = current_user()
    if query.all and user is not None:
        sessions.end_user_sessions(user.id)
    sessions.end_current_session()
    return {"message": "Logged out"}


@bp.get("/me/sessions")
@login_required
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(list[SessionOut])
def my_sessions(query: PageQuery):
    """Your active sessions, most recently used first; `current` marks this one."""
    current = sessions.current_session_id()
    rows, total = paginate(sessions.user_sessions_query(current_user().id), query)
    listed = [
        {
            "id": row.id,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "user_agent": row.user_agent,
            "current": row.id == current,
        }
        for row in rows
    ]
    return listed, 200, page_headers(total, query)


@bp.delete("/me/sessions/<int:session_id>")
@login_required
@bp.output({}, status_code=204)
def end_my_session(session_id: int):
    """End one of your sessions (another device, or this one)."""
    if not sessions.end_user_session(current_user().id, session_id):
        abort(404, description="No such session.")
    return empty_response()


@bp.post("/confirm")
@bp.input(TokenIn, arg_name="body")
@bp.output(MessageWithUserOut)
@bp.doc(responses={400: "Invalid, expired or already used token"})
def confirm(body: TokenIn):
    """Confirm an email address with the token from the confirmation link."""
    try:
        user = service.confirm_email(body.token)
    except TokenError as error:
        raise _token_error(error) from None
    return {"message": "Your email address is confirmed. You can log in now.", "user": user}


@bp.post("/confirm/resend")
@bp.input(EmailIn, arg_name="body")
@limits.resend_per_ip
@bp.output(MessageOut, status_code=202)
@bp.doc(responses={429: limits.RATE_LIMITED})
def resend_confirmation(body: EmailIn):
    """Mail a new confirmation link; the answer is the same whether the address exists."""
    service.resend_confirmation(body.email)
    return {"message": "If that address has an unconfirmed account, a new link is on its way."}


@bp.post("/password-reset")
@bp.input(EmailIn, arg_name="body")
@limits.reset_per_ip
@bp.output(MessageOut, status_code=202)
@bp.doc(responses={429: limits.RATE_LIMITED})
def request_password_reset(body: EmailIn):
    """Mail a password reset link; the answer is the same whether the address exists."""
    service.request_password_reset(body.email)
    return {"message": "If that address has an account, a reset link is on its way."}


@bp.post("/password-reset/confirm")
@bp.input(ResetConfirmIn, arg_name="body")
@limits.reset_token_failures_per_ip
@bp.output(MessageOut)
@bp.doc(
    responses={
        400: "Invalid, expired or used token, or a refused password",
        429: limits.RATE_LIMITED,
    }
)
def confirm_password_reset(body: ResetConfirmIn):
    """Set a new password with the token from the reset link; every session of the user ends."""
    try:
        service.reset_password(body.token, body.password)
    except TokenError as error:
        raise _token_error(error) from None
    return {"message": "Your password has been changed. Log in with the new one."}


@bp.get("/me")
@login_required
@bp.output(UserOut)
def me():
    """The logged-in user."""
    return current_user()


@bp.get("/protected")
@login_required
@bp.output(MessageOut)
def protected():
    """The tutorial's protected route: greets the logged-in user."""
    return {"message": f"Hello, {current_user().username}!"}
