"""Account page forms (Flask-WTF, so each carries a CSRF token).

They check shape only; the rules (password policy, duplicates, credentials) stay in the
service, whose field errors the views copy onto these forms.
"""

from __future__ import annotations

from wtforms import EmailField, Field, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from ..mail import plain_address
from ..pages.forms import PageForm, no_nul

_REPEAT = "The two passwords differ."


def mailable(form: PageForm, field: Field) -> None:
    """As the API's account addresses: no `=?`, which a mail header would decode."""
    if field.data and not plain_address(field.data):
        raise ValidationError("Mail would not reach this address: it contains “=?”.")


_ACCOUNT_EMAIL = [DataRequired(), Email(), Length(max=254), no_nul, mailable]


class RegisterForm(PageForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            # `\Z`, not `$`: `$` also matches before a final newline, which the API refuses.
            Regexp(r"^[A-Za-z0-9_.-]+\Z", message="Letters, digits, dot, dash and underscore."),
        ],
    )
    email = EmailField("Email", validators=_ACCOUNT_EMAIL)
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256), no_nul])
    password_repeat = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", _REPEAT)]
    )


class LoginForm(PageForm):
    username = StringField(
        "Username or email", validators=[DataRequired(), Length(max=254), no_nul]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256), no_nul])


class EmailForm(PageForm):
    email = EmailField("Email", validators=_ACCOUNT_EMAIL)


class NewPasswordForm(PageForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=256), no_nul])
    password_repeat = PasswordField(
        "Repeat the new password", validators=[DataRequired(), EqualTo("password", _REPEAT)]
    )


class PasswordChangeForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=256), no_nul]
    )
