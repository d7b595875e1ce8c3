"""Staff pages: every product (on sale or not), and forms to create and edit them."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from ..apikit import ApiError, PageQuery, paginate
from ..auth import current_user, staff_required
from ..catalog import service as catalog
from ..catalog.models import Product
from ..media import service as media
from .display import PageOfResults
from .forms import ProductForm, requested_page, show_refusal

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

PER_PAGE = 25
#: Said on the picture field of a refused product form that had a picture chosen.
PICTURE_NOT_KEPT = "Choose the picture again: it is not kept while the form has a problem."


def _product_fields(form: ProductForm) -> dict[str, object]:
    return _as_saved(
        {
            "sku": form.sku.data,
            "name": form.name.data,
            "description": form.description.data or "",
            "price_cents": form.price.cents,
            "stock": form.stock.data,
            "active": form.active.data,
        }
    )


def _as_saved(values: dict[str, object]) -> dict[str, object]:
    """Values as the form saves them: SKU and name without spaces around them, line breaks
    as `\n` (a browser sends a text area's as `\r\n`)."""
    saved = dict(values)
    for name in ("sku", "name"):
        if isinstance(saved.get(name), str):
            saved[name] = saved[name].strip()
    if isinstance(saved.get("description"), str):
        saved["description"] = saved["description"].replace("\r\n", "\n")
    return saved


def _values_of(product: Product) -> dict[str, object]:
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price_cents": product.price_cents,
        "stock": product.stock,
        "active": product.active,
    }


def _shown(form: ProductForm) -> dict[str, object] | None:
    """The product's values as the edit page showed them (`form.shown`), as the form saves
    them; None for a form that does not say (not sent by the page)."""
    try:
        shown = json.loads(form.shown.data or "null")
    except (ValueError, RecursionError):  # not JSON, or nested past what Python reads
        return None
    return _as_saved(shown) if isinstance(shown, dict) else None


def _changes(form: ProductForm, product: Product) -> dict[str, object] | None:
    """The fields the staff member changed on the page; None when one of them was changed
    by someone else meanwhile too (each field then says what it is now).

    A field left as the page showed it is not written, so a sale or another staff member's
    change since then stays. A form that does not say what it showed has every field
    written. When the page is shown again to ask, the fields the staff member left alone
    show what is stored now, so saving it again writes their changes and only those.
    """
    fields = _product_fields(form)
    shown = _shown(form)
    if shown is None:
        return fields
    changed = {name: value for name, value in fields.items() if shown.get(name) != value}
    now = _as_saved(_values_of(product))
    clashes = [n for n in changed if now[n] != shown.get(n) and now[n] != changed[n]]
    for name in clashes:
        field = _input_of(form, name)
        field.errors = [*field.errors, _clash_message(name, now[name])]
    if not clashes:
        return changed
    for name in fields.keys() - changed.keys():
        _show_value(form, name, now[name])
    form.shown.data = json.dumps(_values_of(product))
    return None


def _input_of(form: ProductForm, name: str) -> Any:
    """The form's input of a product field (the price is typed in, not in cents)."""
    return getattr(form, {"price_cents": "price"}.get(name, name))


def _show_value(form: ProductForm, name: str, value: Any) -> None:
    """Fill a product field's input with `value`, as the page shows it."""
    field = _input_of(form, name)
    field.raw_data = None  # else the input shows what was sent
    field.data = _price_text(value) if name == "price_cents" else value


def _clash_message(name: str, now: Any) -> str:
    """What a field changed by someone else meanwhile now holds; saving again writes yours."""
    if name == "price_cents":
        text = _price_text(now)
    elif name == "active":
        text = "on sale" if now else "not on sale"
    elif name == "description":
        text = "another text"
    else:
        text = str(now)
    return (
        f"Changed by someone else since you opened this page (now: {text}). "
        "Save again to keep yours."
    )


def _price_text(cents: int) -> str:
    """A price as the form shows it: `12.50`."""
    return f"{cents // 100}.{cents % 100:02d}"


def _checked_picture(form: ProductForm) -> media.CheckedImage | None:
    """The form's picture, checked before anything is saved; None when there is none.

    A refused file becomes an error on the picture field, so the form saves nothing.
    """
    upload = form.picture.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None  # none sent (the form filled from a product holds its current picture)
    try:
        return media.check_image(upload)
    except ApiError as refusal:
        form.picture.errors = [*form.picture.errors, refusal.message]
        return None


def _save(form: ProductForm, product: Product | None) -> Product | None:
    """Create or change the product, then set its picture; None when refused.

    The picture is checked before anything is written, so a refused picture or product
    changes nothing. Storing the checked picture comes after the product's commit: should
    that fail (a full disk), the product stays, without its new picture. An edited product
    is held from before its fields are compared with what the page showed until they are
    saved, so a change or sale committed in between is asked about too, not overwritten.
    """
    picture = _checked_picture(form)
    if form.picture.errors:
        return None
    if product is not None:
        product = catalog.lock_product(product.id)
    changes = _product_fields(form) if product is None else _changes(form, product)
    if changes is None:
        return None
    try:
        if product is None:
            product = catalog.create_product(**changes)
        else:
            catalog.update_product(product, **changes)
    except ApiError as refusal:
        show_refusal(refusal, form, {"price_cents": "price"})
        return None
    if picture is not None:
        media.set_product_image(product, current_user(), picture)
    return product


@bp.get("/products")
@staff_required
def products():
    """Every product, newest first, with a link to edit each."""
    query = PageQuery(page=requested_page(), per_page=PER_PAGE)
    items, total = paginate(catalog.every_product_newest_first(), query)
    results = PageOfResults(items, query.page, PER_PAGE, total)
    return render_template("staff_products.html", results=results)


def _form_page(form: ProductForm, product: Product | None):
    """The product form, shown first (200) or again after a refusal (400). A browser does
    not keep a chosen file across a refused form, so a picture sent with one is asked for
    again, not dropped without a word."""
    if not form.is_submitted():
        return render_template("staff_product_form.html", form=form, product=product)
    if getattr(form.picture.data, "filename", None) and not form.picture.errors:
        form.picture.errors = [PICTURE_NOT_KEPT]
    return render_template("staff_product_form.html", form=form, product=product), 400


@bp.route("/products/new", methods=["GET", "POST"])
@staff_required
def new_product():
    """Create a product; field errors show next to their inputs."""
    form = ProductForm()
    if form.validate_on_submit() and (product := _save(form, None)) is not None:
        flash(f"“{product.name}” was added to the catalogue.", "success")
        return redirect(url_for("staff.edit_product", product_id=product.id), code=303)
    return _form_page(form, None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_product(product_id: int):
    """Change a product; the form starts with what is stored."""
    product = catalog.get_product(product_id, include_inactive=True)
    form = ProductForm(obj=product)
    if request.method == "GET":
        form.price.data = _price_text(product.price_cents)
        form.shown.data = json.dumps(_values_of(product))
    if form.validate_on_submit() and _save(form, product) is not None:
        flash(f"“{product.name}” was saved.", "success")
        return redirect(url_for("staff.edit_product", product_id=product.id), code=303)
    return _form_page(form, product)
