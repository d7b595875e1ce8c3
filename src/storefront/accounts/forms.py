"""Account page forms (Flask-WTF, so each carries a CSRF token).

They check shape only; the rules (password policy, duplicates, credentials) stay in the
service, whose field errors the views copy onto these forms.
"""

from __future__ import annotations

from wtforms import EmailField, Field, PasswordField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Regexp,
    ValidationError,
)

from ..mail import plain_address
from ..pages.forms import PageForm, no_nul

_REPEAT = "The two passwords differ."


def mailable(form: PageForm, field: Field) -> None:
    """As the API's account addresses: no `=?`, which a mail header would decode."""
    if field.data and not plain_address(field.data):
        raise ValidationError("Mail would not reach this address: it contains “=?”.")


_ACCOUNT_EMAIL = [DataRequired(), Email(), Length(max=254), no_nul, mailable]
#: A password field: typed at all (InputRequired, not DataRequired, which calls a password of
#: spaces missing; the policy says what is wrong with it), and what a browser's password
#: manager should offer there (`autocomplete`).
_PASSWORD = [InputRequired(), Length(max=256), no_nul]
_CURRENT = {"autocomplete": "current-password"}
_NEW = {"autocomplete": "new-password"}


class RegisterForm(PageForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            # `\Z`, not `$`: `$` also matches before a final newline, which the API refuses.
            Regexp(r"^[A-Za-z0-9_.-]+\Z", message="Letters, digits, dot, dash and underscore."),
        ],
        render_kw={"autocomplete": "username"},
    )
    email = EmailField("Email", validators=_ACCOUNT_EMAIL, render_kw={"autocomplete": "email"})
    password = PasswordField("Password", validators=_PASSWORD, render_kw=_NEW)
    password_repeat = PasswordField(
        "Repeat the password",
        validators=[InputRequired(), EqualTo("password", _REPEAT)],
        render_kw=_NEW,
    )


class LoginForm(PageForm):
    username = StringField(
        "Username or email",
        validators=[DataRequired(), Length(max=254), no_nul],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField("Password", validators=_PASSWORD, render_kw=_CURRENT)


class EmailForm(PageForm):
    email = EmailField("Email", validators=_ACCOUNT_EMAIL, render_kw={"autocomplete": "email"})


class NewPasswordForm(PageForm):
    password = PasswordField("New password", validators=_PASSWORD, render_kw=_NEW)
    password_repeat = PasswordField(
        "Repeat the new password",
        validators=[InputRequired(), EqualTo("password", _REPEAT)],
        render_kw=_NEW,
    )


class PasswordChangeForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=_PASSWORD, render_kw=_CURRENT)
