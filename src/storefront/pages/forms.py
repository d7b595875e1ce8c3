"""HTML forms (Flask-WTF: every form that changes something carries a CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import flash, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import FileField as AnyFileField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..apikit import MAX_PAGE, ApiError, shows_something
from ..catalog.schemas import MAX_PRICE_CENTS, MAX_STOCK
from ..extensions import db
from ..orders.service import MAX_QUANTITY

SORT_CHOICES = [
    SelectChoice("name", "Name"),
    SelectChoice("price", "Price: low to high"),
    SelectChoice("-price", "Price: high to low"),
    SelectChoice("newest", "Newest"),
]


class WholeNumberField(IntegerField):
    """An integer field that takes a number in ASCII digits (a minus sign allowed), of no more
    digits than any of the shop's limits.

    WTForms reads the number with `int()`, which also takes `1_0`, `+5`, ` 5 ` and other
    scripts' digits (`١٢`): a quantity of `1_0` put ten in the cart. And its `NumberRange`
    passes the number to `math.isnan`, which cannot turn an integer of 309 digits or more into
    a float and raises OverflowError: a 500, not a form error.
    """

    MAX_DIGITS = 18
    FORMAT = re.compile(r"-?[0-9]+")

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0] if valuelist else ""
        if text and not self.FORMAT.fullmatch(text):
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        if len(text.lstrip("-")) > self.MAX_DIGITS:
            self.data = None
            raise ValueError("That number is too large.")
        super().process_formdata(valuelist)


class PageForm(FlaskForm):
    """A form of the shop's pages: it reads what a browser's form sends, and only that.

    Flask-WTF feeds a form the uploaded files together with the text fields, and a JSON body
    (with the token in a header) as if it were fields: a file part named like a text field
    then reaches validators that call `len()` on a `FileStorage`, and a JSON number, list or
    object reaches them as an `int`, a `list` or a `dict` (500s). Here the fields come from
    the form data alone and files go only to the form's file inputs: a file sent for a text
    field is a 400, and a body of another type leaves the fields empty, which the form refuses
    (a stray file under a name the form does not have is ignored, as a stray field is).
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: FlaskForm, formdata: Any) -> Any:
            if formdata is None or hasattr(formdata, "getlist"):
                return formdata  # given by the caller: `CatalogueQueryForm(request.args)`
            if not form.is_submitted():
                return None
            fields = {field.name: field for field in form}
            data = MultiDict(request.form.items(multi=True))
            for name, upload in request.files.items(multi=True):
                if isinstance(fields.get(name), AnyFileField):
                    data.add(name, upload)
                elif name in fields:
                    label = fields[name].label.text
                    raise BadRequest(f"The field “{label}” takes text, not a file.")
            return data


def show_refusal(
    refusal: ApiError, form: FlaskForm | None = None, renames: Mapping[str, str] | None = None
) -> None:
    """Put a service's refusal on the page: each field error next to its input (`renames`
    maps a service's field name to the form's), anything else flashed on top. The refused
    change is rolled back first, so the page shows what is stored."""
    db.session.rollback()
    placed = False
    for name, why in (refusal.extra.get("fields") or {}).items():
        field = getattr(form, (renames or {}).get(name, name), None)
        if field is not None:
            field.errors = [*field.errors, f"{field.label.text} {why}."]
            placed = True
    if not placed:
        flash(refusal.message, "error")


def no_nul(form: FlaskForm, field: StringField) -> None:
    if field.data and "\x00" in field.data:
        raise ValidationError("Contains characters we cannot store.")


def readable(form: FlaskForm, field: StringField) -> None:
    """As the API's names: text of only invisible characters (a zero-width space) is blank."""
    if field.data and not shows_something(field.data):
        raise ValidationError("Must not be blank.")


class ContactForm(PageForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=100), no_nul],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "Email",
        validators=[DataRequired(), Email(), Length(max=254), no_nul],
        render_kw={"autocomplete": "email"},
    )
    message = TextAreaField("Message", validators=[Length(max=5000), no_nul])


class ListPageForm(PageForm):
    """`?page=` of a list page (catalogue, orders, staff products), read from the query string."""

    class Meta:
        csrf = False

    page = WholeNumberField("Page", default=1, validators=[Optional(), NumberRange(1, MAX_PAGE)])


def requested_page() -> int:
    """The page of a list `?page=` asks for; the first when it names no page number (`abc`,
    `0`, `1_0`). A number past the list's last page is its 404 (display.py), and so is one
    past `MAX_PAGE`, which no list reaches.
    """
    form = ListPageForm(request.args)
    if form.validate():
        return form.page.data or 1
    asked = request.args.get("page", "").lstrip("0")
    if (
        asked.isascii()
        and asked.isdigit()
        and (len(asked) > len(str(MAX_PAGE)) or int(asked) > MAX_PAGE)
    ):
        raise NotFound("There is no such page.")
    return 1


class CatalogueQueryForm(PageForm):
    """The catalogue's search box and sort order, read from the query string."""

    class Meta:
        csrf = False

    q = SearchField("Search products", validators=[Optional(), Length(max=200), no_nul])
    sort = SelectField("Sort by", choices=SORT_CHOICES, default="name")


class QuantityForm(PageForm):
    """How many of a product: adding to the cart or changing a cart line."""

    quantity = WholeNumberField(
        "Quantity",
        default=1,
        validators=[InputRequired(), NumberRange(0, MAX_QUANTITY, f"Choose 0 to {MAX_QUANTITY}.")],
    )


class AddToCartForm(QuantityForm):
    """How many to add: at least one (0 only means something on a cart line, where it removes)."""

    quantity = WholeNumberField(
        "Quantity",
        default=1,
        validators=[InputRequired(), NumberRange(1, MAX_QUANTITY, f"Choose 1 to {MAX_QUANTITY}.")],
    )


class ButtonForm(PageForm):
    """A form that is only a button (remove, cancel, sign out): it carries the CSRF token and
    nothing else, which CSRFProtect checks before any view runs."""


class CheckoutForm(PageForm):
    """Place the order; the key makes a second submit of the same page find the first order,
    and the cart's fingerprint keeps it to the lines and prices the page showed."""

    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=255)])
    cart_fingerprint = HiddenField(validators=[DataRequired(), Length(max=100_000)])


class PriceField(StringField):
    """A price typed as `12`, `12.5` or `12.50`, kept as integer cents in `cents`.

    Digits and a dot only: `Decimal` also reads `1e3`, ` 12`, `NaN`, `١٢` (other scripts'
    digits), and a comma read as the dot took `1,250` for 1.25.
    """

    FORMAT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
    cents: int | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.cents = None
        if not self.data:
            return
        if not self.FORMAT.fullmatch(self.data):
            raise ValueError("Enter the price in digits with at most two decimals, such as 12.50.")
        amount = Decimal(self.data)
        if amount > Decimal(MAX_PRICE_CENTS) / 100:
            raise ValueError("That price is too high.")
        self.cents = int(amount * 100)


class ProductForm(PageForm):
    """Staff create and edit products here; the picture is optional."""

    sku = StringField(
        "SKU",
        validators=[
            DataRequired(),
            Length(max=64),
            # `\Z`, not `$`: `$` also matches before a final newline, which the API refuses.
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z", message="Letters, digits, '.', '_', '-'."),
        ],
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200), no_nul, readable])
    description = TextAreaField("Description", validators=[Length(max=5000), no_nul])
    price = PriceField("Price", validators=[DataRequired()])
    stock = WholeNumberField(
        "Stock", default=0, validators=[InputRequired(), NumberRange(0, MAX_STOCK)]
    )
    active = BooleanField("On sale", default=True)
    picture = FileField("Picture", validators=[Optional()])
    #: The product as the edit page showed it (JSON), sent back with the form: only what the
    #: staff member changed is written, so stock sold meanwhile stays sold (`staff._changes`).
    shown = HiddenField()
