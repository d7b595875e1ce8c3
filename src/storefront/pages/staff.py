"""Staff pages: every product (on sale or not), and forms to create and edit them."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..apikit import ApiError, PageQuery, paginate
from ..auth import load_current_user, role_required
from ..catalog import service as catalog
from ..catalog.models import Product
from ..extensions import db
from ..media import service as media
from .display import PageOfResults
from .forms import ProductForm, requested_page

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

PER_PAGE = 25


def _product_fields(form: ProductForm) -> dict[str, object]:
    return {
        "sku": form.sku.data.strip(),
        "name": form.name.data.strip(),
        "description": form.description.data or "",
        "price_cents": form.price.cents,
        "stock": form.stock.data,
        "active": form.active.data,
    }


def shown_values(product: Product) -> str:
    """The editable fields of a product as its edit page shows them, for `form.shown`."""
    return json.dumps(
        {
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "price_cents": product.price_cents,
            "stock": product.stock,
            "active": product.active,
        }
    )


def _changed_fields(form: ProductForm) -> dict[str, object]:
    """The form's fields that differ from what the page showed: a field left as it was is
    not written, so a sale or another staff member's change since then stays. A form that
    says nothing of what it showed (not sent by the page) has every field written."""
    fields = _product_fields(form)
    try:
        shown = json.loads(form.shown.data or "null")
    except ValueError:
        shown = None
    if not isinstance(shown, dict):
        return fields
    return {name: value for name, value in fields.items() if shown.get(name) != value}


def _show_refusal(form: ProductForm, refusal: ApiError) -> None:
    """Put a service's field errors next to their inputs; anything else goes on top."""
    db.session.rollback()
    names = {"price_cents": "price", "file": "picture"}
    fields = refusal.extra.get("fields") or {}
    for name, why in fields.items():
        target = getattr(form, names.get(name, name), None)
        if target is not None:
            target.errors = [*target.errors, why]
    if not fields:
        flash(refusal.message, "error")


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
    that fail (a full disk), the product stays, without its new picture.
    """
    picture = _checked_picture(form)
    if form.picture.errors:
        return None
    try:
        if product is None:
            product = catalog.create_product(**_product_fields(form))
        else:
            catalog.update_product(product, **_changed_fields(form))
    except ApiError as refusal:
        _show_refusal(form, refusal)
        return None
    if picture is not None:
        media.set_product_image(product, load_current_user(), picture)
    return product


@bp.get("/products")
@role_required("staff", "admin")
def products():
    """Every product, newest first, with a link to edit each."""
    query = PageQuery(page=requested_page(), per_page=PER_PAGE)
    statement = select(Product).order_by(Product.created_at.desc(), Product.id.desc())
    items, total = paginate(statement, query)
    results = PageOfResults(items, query.page, PER_PAGE, total)
    return render_template("staff_products.html", results=results)


@bp.route("/products/new", methods=["GET", "POST"])
@role_required("staff", "admin")
def new_product():
    """Create a product; field errors show next to their inputs."""
    form = ProductForm()
    if form.validate_on_submit() and (product := _save(form, None)) is not None:
        flash(f"“{product.name}” was added to the catalogue.", "success")
        return redirect(url_for("staff.edit_product", product_id=product.id), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("staff_product_form.html", form=form, product=None), status


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@role_required("staff", "admin")
def edit_product(product_id: int):
    """Change a product; the form starts with what is stored."""
    product = catalog.get_product(product_id, include_inactive=True)
    form = ProductForm(obj=product)
    if request.method == "GET":
        form.price.data = f"{product.price_cents // 100}.{product.price_cents % 100:02d}"
        form.shown.data = shown_values(product)
    if form.validate_on_submit() and _save(form, product) is not None:
        flash(f"“{product.name}” was saved.", "success")
        return redirect(url_for("staff.edit_product", product_id=product.id), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("staff_product_form.html", form=form, product=product), status
