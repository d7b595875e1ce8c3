"""Cart, checkout and orders API, for logged-in users."""

from __future__ import annotations

from apiflask import APIBlueprint

from ..apikit import PageQuery, created_headers, page_headers, paginate
from ..auth import current_user, login_required
from ..openapi import error_answer
from . import service
from .schemas import (
    REPLAYED_HEADER,
    SHORT_LINES,
    CartItemIn,
    CartOut,
    CartQuantityIn,
    CheckoutHeaders,
    OrderOut,
)

bp = APIBlueprint("orders_api", __name__, url_prefix="/api", tag="Cart and orders")


@bp.get("/cart")
@login_required
@bp.output(CartOut)
def view_cart():
    """Your cart, with line totals and a total at current prices."""
    return service.view_cart(current_user())


@bp.post("/cart/items")
@login_required
@bp.input(CartItemIn, arg_name="body")
@bp.output(CartOut)
@bp.doc(
    responses={
        404: "Unknown or inactive product",
        409: error_answer("More than in stock", items=SHORT_LINES),
    }
)
def add_to_cart(body: CartItemIn):
    """Add a product to your cart (added to its line if already there)."""
    return service.add_to_cart(current_user(), body.product_id, body.quantity)


@bp.patch("/cart/items/<int:product_id>")
@login_required
@bp.input(CartQuantityIn, arg_name="body")
@bp.output(CartOut)
@bp.doc(
    responses={404: "Not in the cart", 409: error_answer("More than in stock", items=SHORT_LINES)}
)
def set_cart_quantity(product_id: int, body: CartQuantityIn):
    """Set the quantity of a line of your cart; 0 removes it."""
    return service.set_cart_quantity(current_user(), product_id, body.quantity)


@bp.delete("/cart/items/<int:product_id>")
@login_required
@bp.output(CartOut)
@bp.doc(responses={404: "Not in the cart"})
def remove_from_cart(product_id: int):
    """Take a product out of your cart."""
    return service.remove_from_cart(current_user(), product_id)


@bp.post("/cart/checkout")
@login_required
@bp.input(CheckoutHeaders, location="headers", arg_name="headers")
@bp.output(OrderOut, status_code=201)
@bp.doc(
    responses={
        201: {"headers": REPLAYED_HEADER},
        400: "Empty cart or bad Idempotency-Key",
        409: error_answer(
            "Not enough stock or no longer on sale (`items` names the lines); nothing changed",
            items=SHORT_LINES,
        ),
    }
)
def checkout(headers: CheckoutHeaders):
    """Place an order from your cart. Send an `Idempotency-Key` header to retry safely."""
    order, placed = service.checkout(current_user(), headers.idempotency_key)
    headers = created_headers("orders_api.get_order", order_id=order.id)
    if not placed:
        headers["Idempotent-Replayed"] = "true"
    return order, 201, headers


@bp.get("/orders")
@login_required
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(list[OrderOut])
def list_orders(query: PageQuery):
    """Your orders, newest first (staff and admins: everyone's)."""
    orders, total = paginate(service.orders_visible_to(current_user()), query)
    return orders, 200, page_headers(total, query)


@bp.get("/orders/<int:order_id>")
@login_required
@bp.output(OrderOut)
def get_order(order_id: int):
    """One of your orders (staff and admins: any order)."""
    return service.get_order(current_user(), order_id)


@bp.post("/orders/<int:order_id>/cancel")
@login_required
@bp.output(OrderOut)
@bp.doc(
    responses={
        409: error_answer(
            "The order can no longer be cancelled",
            order_status={"type": "string", "description": "The order's status now."},
        )
    }
)
def cancel_order(order_id: int):
    """Cancel a placed order; its items go back in stock."""
    return service.cancel_order(current_user(), order_id)
