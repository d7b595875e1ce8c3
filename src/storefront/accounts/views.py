"""Account pages: register, confirm, log in and out, reset a password, manage the account.

Plain HTML forms with CSRF tokens and server-side messages; no JavaScript needed. The rules
live in `service`; a refused value comes back as an `ApiError` whose field errors are shown
next to the fields.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from .. import sessions
from ..apikit import ApiError
from ..auth import current_user, login_required
from ..errors import handle_http_exception
from ..pages.forms import ButtonForm, show_refusal
from . import limits, service
from .forms import (
    EmailForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    RegisterForm,
)
from .passwords import PASSWORD_RULES
from .tokens import TokenError

bp = Blueprint("accounts_pages", __name__)
bp.add_app_template_global(PASSWORD_RULES, "password_rules")

RESET_SENT = "If that address has an account, a reset link is on its way. Check your inbox."
RESEND_SENT = "If that address has an unconfirmed account, a new link is on its way."

#: What makes a `next=` unsafe to send back: a backslash, which browsers read as `/`, and
#: control characters, which browsers drop (so `/<TAB>/evil.example` becomes
#: `//evil.example`) or which cannot go into a `Location` header at all (newlines).
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x1f\x7f\\]")
#: Dot segments (`..`, `%2e%2e`, which browsers resolve alike): under a prefix,
#: `/shop` + `/../orders` would land on `/orders`, outside the shop.
_DOT_SEGMENTS = {".", ".."}


def _page(template: str, form: FlaskForm, status: int | None = None, **context):
    """Render a form page: 200 when shown, 400 when a submission was refused."""
    if status is None:
        status = 400 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


@bp.route("/register", methods=["GET", "POST"])
@limits.register_per_ip
def register():
    """Create an account; the confirmation link goes to the given email address."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = service.create_user(form.username.data, form.email.data, form.password.data)
        except ApiError as error:
            show_refusal(error, form)
        else:
            flash(
                f"Almost done: we sent a confirmation link to {user.email}. "
                "Follow it, then log in.",
                "info",
            )
            return redirect(url_for("accounts_pages.login"), code=303)
    return _page("accounts/register.html", form)


@bp.get("/confirm/<token>")
def confirm(token: str):
    """The link from the confirmation email: confirms the account at once.

    Opened again, or first by a mail scanner fetching every link, it still says the account
    is confirmed, as it is. A HEAD request (link previews) changes nothing.
    """
    problem = None
    try:
        if request.method == "HEAD":
            service.check_confirmation(token)
        else:
            service.confirm_email(token)
    except TokenError as error:
        if not service.confirmed_by(token):
            problem = error.reason
    page = render_template("accounts/confirm.html", problem=problem)
    return page, 400 if problem else 200, {"Cache-Control": "no-store"}


@bp.route("/confirm/resend", methods=["GET", "POST"])
@limits.resend_per_ip
def resend_confirmation():
    """Ask for a new confirmation link (the answer never says whether the address exists)."""
    form = EmailForm()
    if form.validate_on_submit():
        service.resend_confirmation(form.email.data)
        flash(RESEND_SENT, "info")
        return redirect(url_for("accounts_pages.login"), code=303)
    return _page("accounts/confirm_resend.html", form)


@bp.route("/login", methods=["GET", "POST"])
@limits.login_per_ip
@limits.login_per_account
def login():
    """Log in with username or email; unconfirmed accounts are told how to get a new link."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.log_in(form.username.data, form.password.data)
        except service.NotConfirmed:
            return _page("accounts/login.html", form, 403, unconfirmed=True)
        if user is not None:
            limits.remember_device(user)
            flash(f"Welcome back, {user.username}!", "info")
            return redirect(_local_target(request.args.get("next")), code=303)
        limits.count_failed_login()
        flash("Wrong username or password.", "error")
        return _page("accounts/login.html", form, 401)
    return _page("accounts/login.html", form)


@bp.errorhandler(CSRFError)
def _expired_form(error: CSRFError):
    """A login form whose token expired (a login or logout in another tab replaced the
    session it was made for) is shown again, fresh, with the name kept: a 400, as every
    refused form, but not a dead end; if that tab's login already let the user in, they go
    on where the form would have taken them. A logout button from a page whose session has
    ended already got what it asked for. Other forms get the shop's expired-form page."""
    if request.endpoint == "accounts_pages.logout" and current_user() is None:
        return _logged_out()
    if request.endpoint != "accounts_pages.login":
        return handle_http_exception(error)
    if current_user() is not None:  # logged in from another tab meanwhile: done
        flash("You are logged in already.", "info")
        return redirect(_local_target(request.args.get("next")), code=303)
    form = LoginForm(formdata=None, username=request.form.get("username", ""))
    return _page("accounts/login.html", form, 400, expired=True)


def _local_target(target: str | None) -> str:
    """Where to go after login: the page asked for, if it is on this site; else the shop.

    `next=` holds a path within the shop (`request.path`), so a shop mounted under a
    prefix (`SCRIPT_NAME`, a proxy's `X-Forwarded-Prefix`) sends the user back under it.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not _UNSAFE_IN_TARGET.search(target)
        and not _has_dot_segment(target)
    ):
        return request.script_root + target
    return url_for("catalogue.index")


def _has_dot_segment(target: str) -> bool:
    """Whether the path part of `target` climbs or stays put with `..` or `.` segments."""
    segments = urlsplit(target).path.split("/")
    return not _DOT_SEGMENTS.isdisjoint(unquote(segment) for segment in segments)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks (a link must not log anyone out); POST, with its CSRF token, logs out."""
    form = ButtonForm()
    if form.validate_on_submit():
        sessions.end_current_session()
        return _logged_out()
    return _page("accounts/logout.html", form)


def _logged_out():
    flash("You are logged out.", "info")
    return redirect(url_for("catalogue.index"), code=303)


@bp.route("/reset", methods=["GET", "POST"])
@limits.reset_per_ip
def reset_request():
    """Ask for a password reset link (same answer whether the address exists or not)."""
    form = EmailForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        flash(RESET_SENT, "info")
        return redirect(url_for("accounts_pages.reset_request"), code=303)
    return _page("accounts/reset_request.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limits.reset_token_failures_per_ip
def reset_confirm(token: str):
    """The link from the reset email: choose a new password; every session then ends."""
    try:
        service.user_of_reset_token(token)
    except TokenError as error:
        return render_template("accounts/reset_confirm.html", problem=error.reason), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except TokenError as error:
            return render_template("accounts/reset_confirm.html", problem=error.reason), 400
        except ApiError as error:
            show_refusal(error, form)
        else:
            flash("Your password has been changed. Log in with the new one.", "info")
            return redirect(url_for("accounts_pages.login"), code=303)
    return _page("accounts/reset_confirm.html", form, problem=None)


def _account_page(
    email_form: EmailForm | None = None,
    password_form: PasswordChangeForm | None = None,
    status: int = 200,
):
    user = current_user()
    email_form = email_form or EmailForm(formdata=None, data={"email": user.email})
    current = sessions.current_session_id()
    return (
        render_template(
            "accounts/account.html",
            user=user,
            email_form=email_form,
            password_form=password_form or PasswordChangeForm(formdata=None),
            button=ButtonForm(),
            user_sessions=sessions.list_user_sessions(user.id),
            current_session_id=current,
        ),
        status,
    )


@bp.get("/account")
@login_required
def account():
    """Your email, a password change, and your active sessions with a sign-out for each.

    A visitor is sent to log in and brought back here, as from every page behind a login.
    """
    return _account_page()


@bp.get("/account/email")
@bp.get("/account/password")
def account_form_address():
    """A refused change is shown at its form's address; opened again (a reload, the history)
    that address leads back to the account page."""
    return redirect(url_for("accounts_pages.account"))


@bp.post("/account/email")
@login_required
def change_email():
    form = EmailForm()
    user = current_user()
    if form.validate_on_submit():
        if service.normalize_email(form.email.data) == user.email:
            flash("That is already your email address: nothing changed.", "info")
            return redirect(url_for("accounts_pages.account"), code=303)
        try:
            service.update_user(user, acting=user, email=form.email.data)
        except ApiError as error:
            show_refusal(error, form)
        else:
            flash("Your email address has been changed.", "info")
            return redirect(url_for("accounts_pages.account"), code=303)
    return _account_page(email_form=form, status=400)


@bp.post("/account/password")
@login_required
@limits.password_check_per_account
def change_password():
    """A new password (with the current one); every other session of yours ends.

    A wrong current password counts as a failed login of the account.
    """
    form = PasswordChangeForm()
    user = current_user()
    if form.validate_on_submit():
        try:
            service.update_user(
                user,
                acting=user,
                password=form.password.data,
                current_password=form.current_password.data,
                keep_session_id=sessions.current_session_id(),
            )
        except ApiError as error:
            if isinstance(error, service.WrongPassword):
                limits.count_failed_login()
            show_refusal(error, form)
        else:
            limits.remember_device(user)  # the mark follows the new password
            flash("Your password has been changed; your other sessions are logged out.", "info")
            return redirect(url_for("accounts_pages.account"), code=303)
    return _account_page(password_form=form, status=400)


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Sign one of your sessions out (this one too, if you pick it)."""
    was_current = session_id == sessions.current_session_id()
    if not sessions.end_user_session(current_user().id, session_id):
        # Ended from another tab or device already (or never the user's): the list says so.
        flash("That session was already signed out.", "info")
        return redirect(url_for("accounts_pages.account"), code=303)
    if was_current:
        return _logged_out()
    flash("That session is signed out.", "info")
    return redirect(url_for("accounts_pages.account"), code=303)


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    """Sign out everywhere but here."""
    user = current_user()
    sessions.end_user_sessions(user.id, keep_session_id=sessions.current_session_id())
    flash("All your other sessions are signed out.", "info")
    return redirect(url_for("accounts_pages.account"), code=303)
