"""HTML forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, ValidationError


def no_nul(form: FlaskForm, field: StringField) -> None:
    if field.data and "\x00" in field.data:
        raise ValidationError("Contains characters we cannot store.")


class ContactForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100), no_nul])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254), no_nul])
    message = TextAreaField("Message", validators=[Length(max=5000), no_nul])
