"""Cart, checkout and orders for a logged-in shopper, on top of the orders service.

Every action answers with a redirect and a flash message (post/redirect/get), so a
reload never repeats it; a refusal from the service becomes an error message.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for

from ..accounts.models import User
from ..apikit import ApiError, PageQuery, paginate
from ..auth import current_user, login_required
from ..orders import service as orders
from .display import PageOfResults, money
from .forms import (
    AddToCartForm,
    ButtonForm,
    CheckoutForm,
    PageForm,
    QuantityForm,
    requested_page,
    show_refusal,
)

bp = Blueprint("shopping", __name__, template_folder="templates")

PER_PAGE = 20
#: A product page's "Add to cart" for a product taken off sale (or deleted) since it was shown.
NOT_ON_SALE = "Sorry, that product is no longer on sale."


def _form_problem(form: PageForm) -> str:
    """What is wrong with a posted form, as a sentence for a flash message.

    A missing or forged CSRF token never gets here: CSRFProtect refuses it with a 400 first.
    """
    return " ".join(message for messages in form.errors.values() for message in messages)


@bp.post("/cart/add/<int:product_id>")
@login_required
def add_to_cart(product_id: int):
    """Add some of a product to the cart, then show the cart."""
    form = AddToCartForm()
    if not form.validate_on_submit():
        flash(_form_problem(form), "error")
        return redirect(url_for("catalogue.product", product_id=product_id), code=303)
    try:
        cart = orders.add_to_cart(current_user(), product_id, form.quantity.data)
    except ApiError as refusal:
        if refusal.status == 404:
            flash(NOT_ON_SALE, "error")
            return redirect(url_for("catalogue.index"), code=303)
        show_refusal(refusal)
        return redirect(url_for("catalogue.product", product_id=product_id), code=303)
    name = next(line.name for line in cart.items if line.product_id == product_id)
    flash(f"Added {form.quantity.data} × {name} to your cart.", "success")
    return redirect(url_for("shopping.cart"), code=303)


@bp.get("/cart")
@login_required
def cart():
    """The cart at today's prices, a quantity box and a remove button per line."""
    return render_template("cart.html", cart=orders.view_cart(current_user()), form=ButtonForm())


@bp.post("/cart/items/<int:product_id>")
@login_required
def update_cart_line(product_id: int):
    """Set a line's quantity (0 removes it)."""
    form = QuantityForm()
    if not form.validate_on_submit():
        flash(_form_problem(form), "error")
        return redirect(url_for("shopping.cart"), code=303)
    try:
        orders.set_cart_quantity(current_user(), product_id, form.quantity.data)
    except ApiError as refusal:
        show_refusal(refusal)
    else:
        flash("Your cart was updated.", "success")
    return redirect(url_for("shopping.cart"), code=303)


@bp.post("/cart/items/<int:product_id>/remove")
@login_required
def remove_cart_line(product_id: int):
    """Take a line out of the cart."""
    try:
        orders.remove_from_cart(current_user(), product_id)
    except ApiError as refusal:
        show_refusal(refusal)
    else:
        flash("The item was removed from your cart.", "success")
    return redirect(url_for("shopping.cart"), code=303)


@bp.get("/checkout")
@login_required
def checkout():
    """The order summary and the place-order button, with a fresh idempotency key; with an
    empty cart, a page that says so and leads back to the catalogue."""
    cart = orders.view_cart(current_user())
    form = CheckoutForm(idempotency_key=uuid.uuid4().hex, cart_fingerprint=cart.fingerprint)
    return render_template("checkout.html", cart=cart, form=form)


@bp.post("/checkout")
@login_required
def place_order():
    """Place the order; posting the same page twice finds the first order, never a second."""
    form = CheckoutForm()
    if not form.validate_on_submit():
        flash(_form_problem(form), "error")
        return redirect(url_for("shopping.checkout"), code=303)
    try:
        order, placed = orders.checkout(
            current_user(), form.idempotency_key.data, reviewed=form.cart_fingerprint.data
        )
    except orders.CartChanged as refusal:
        show_refusal(refusal)
        for change in _changes_since(form.cart_fingerprint.data, current_user()):
            flash(change, "info")
        return redirect(url_for("shopping.checkout"), code=303)
    except ApiError as refusal:
        show_refusal(refusal)
        return redirect(url_for("shopping.cart"), code=303)
    if placed:
        flash(f"Thank you! Order #{order.id} is placed.", "success")
    else:
        flash(f"Order #{order.id} was already placed; here it is.", "info")
    return redirect(url_for("shopping.order", order_id=order.id), code=303)


def _changes_since(reviewed: str, user: User) -> list[str]:
    """What changed in the cart since the checkout page showed it, line by line, in words."""
    cart = orders.view_cart(user)
    then = orders.reviewed_lines(reviewed)
    changes = []
    for line in cart.items:
        name = f"“{line.name}”"
        before = then.pop(line.product_id, None)
        if before is None:
            changes.append(f"{name} was added.")
            continue
        quantity, cents = before
        if cents != line.unit_price_cents:
            was, now = money(cents, cart.currency), money(line.unit_price_cents, cart.currency)
            changes.append(f"{name} now costs {now} (it was {was}).")
        if quantity != line.quantity:
            changes.append(f"{name}: {line.quantity} now (it was {quantity}).")
    if then:
        changes.append("Something you had in the cart is no longer in it.")
    return changes


@bp.get("/orders")
@login_required
def order_list():
    """The shopper's orders, newest first (staff see everyone's)."""
    query = PageQuery(page=requested_page(), per_page=PER_PAGE)
    shown = orders.orders_visible_to(current_user(), with_buyers=True)
    items, total = paginate(shown, query)
    results = PageOfResults(items, query.page, PER_PAGE, total)
    return render_template("orders.html", results=results)


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    """One order with its lines; a placed order has a cancel button."""
    found = orders.get_order(current_user(), order_id)
    return render_template("order.html", order=found, form=ButtonForm())


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int):
    """Cancel a placed order; its items go back on the shelf."""
    try:
        orders.cancel_order(current_user(), order_id)
    except ApiError as refusal:
        if refusal.status == 404:
            raise
        show_refusal(refusal)
    else:
        flash(f"Order #{order_id} is cancelled.", "success")
    return redirect(url_for("shopping.order", order_id=order_id), code=303)
