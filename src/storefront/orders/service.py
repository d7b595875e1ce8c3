"""Cart, checkout and order rules. Plain functions taking a user, so pages and API share them.

Checkout never oversells: stock is taken with a conditional `UPDATE … WHERE stock >= :q`
whose row count is checked, all lines in one transaction. An idempotency key is stored
with the order under a unique constraint, so a retried checkout finds the first order.

Locks are taken in one order: the user's cart (`_lock_cart`), then its lines, then
products by id (checkout and cancel alike). A product delete takes the product's cart
lines before the product, as checkout does (`catalog.service.delete_product`), so neither
waits for the other in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..accounts.service import hold_own_account
from ..apikit import ApiError, Conflict
from ..auth import is_staff
from ..catalog import service as catalog
from ..catalog.models import Product
from ..extensions import db, utcnow
from .models import CartItem, Order, OrderItem

MAX_QUANTITY = 999
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class CartChanged(Conflict):
    """The cart is no longer the one the shopper reviewed: other lines, or other prices."""


@dataclass
class CartLine:
    """A line of a cart at the product's current price."""

    product_id: int
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int
    #: False once staff took the product off sale: the line can only be removed.
    on_sale: bool = True
    #: How many the shop has now; a line asking for more cannot be ordered as it is.
    in_stock: int = 0

    @property
    def orderable(self) -> bool:
        return self.on_sale and self.quantity <= self.in_stock


@dataclass
class Cart:
    """A cart priced at the products' current prices."""

    items: list[CartLine] = field(default_factory=list)
    total_cents: int = 0
    currency: str = ""

    @property
    def fingerprint(self) -> str:
        """What an order of this cart would be: its lines, quantities and prices, as
        `7x2@399;9x1@2500 EUR` (see `checkout`'s `reviewed`, and `reviewed_lines`)."""
        lines = sorted(
            (line.product_id, line.quantity, line.unit_price_cents) for line in self.items
        )
        return ";".join(f"{p}x{q}@{c}" for p, q, c in lines) + f" {self.currency}"


#: A line of a `Cart.fingerprint`: product id, quantity, unit price in cents.
_FINGERPRINT_LINE = re.compile(r"([0-9]{1,18})x([0-9]{1,9})@([0-9]{1,18})")


def reviewed_lines(fingerprint: str) -> dict[int, tuple[int, int]]:
    """The lines a `Cart.fingerprint` describes: product id → (quantity, unit price in
    cents). Anything in it that is no such line (it comes back from a page) is skipped."""
    return {
        int(product): (int(quantity), int(cents))
        for product, quantity, cents in _FINGERPRINT_LINE.findall(fingerprint)
    }


@dataclass
class ShortLine:
    """A line that cannot be served: how many were asked for, how many are left."""

    product_id: int
    name: str
    requested: int
    available: int


# --- units of work -----------------------------------------------------------------------


@contextmanager
def _write_transaction() -> Iterator[None]:
    """A unit of work that writes: any failure undoes it before the error travels on.

    A page that shows the refusal (409, not enough stock) then reads the cart as it was,
    and on SQLite the write lock (taken by every POST, PATCH and DELETE, see `_sqlite_begin`
    in `storefront/__init__.py`) is freed at once.
    """
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise


# --- cart --------------------------------------------------------------------------------


def _lock_cart(user: User) -> None:
    """Hold the user's cart until the transaction ends; every cart change starts here.

    Changes and checkouts of one cart then run one after the other, each reading the lines
    as the one before left them: no addition is lost, no line vanishes under a change. The
    lock is the account's row (`accounts.service.hold_own_account`): a 401 once it is gone.
    """
    hold_own_account(user)


def _cart_items(user: User, *, lock: bool = False) -> list[CartItem]:
    """The user's cart lines with their products, oldest line first (one SQL statement).

    `lock` holds the lines (PostgreSQL `FOR UPDATE`) until the transaction ends, before
    checkout touches any product: a product delete, which takes the lines first too, then
    waits for the checkout, or the checkout finds the deleted product's line gone.
    """
    statement = (
        select(CartItem)
        .where(CartItem.user_id == user.id)
        .order_by(CartItem.added_at, CartItem.product_id)
    )
    if lock:
        statement = statement.with_for_update(of=CartItem)
    return list(db.session.scalars(statement).unique())


def view_cart(user: User) -> Cart:
    """The user's cart with line totals and a total at current prices."""
    return _priced(_cart_items(user))


def _priced(items: list[CartItem]) -> Cart:
    """Cart lines at their products' prices as loaded, with line totals and a total."""
    cart = Cart(currency=catalog.shop_currency())
    for item in items:
        line_total = item.quantity * item.product.price_cents
        cart.items.append(
            CartLine(
                product_id=item.product_id,
                name=item.product.name,
                quantity=item.quantity,
                unit_price_cents=item.product.price_cents,
                line_total_cents=line_total,
                on_sale=item.product.active,
                in_stock=item.product.stock,
            )
        )
        cart.total_cents += line_total
    return cart


def _check_quantity(quantity: int) -> None:
    if quantity > MAX_QUANTITY:
        raise ApiError(
            f"A cart line holds at most {MAX_QUANTITY} items.",
            fields={"quantity": f"at most {MAX_QUANTITY} in one line"},
        )


def _check_stock(product: Product, quantity: int, in_cart: int = 0) -> None:
    """409 when the cart's line would hold more than the shelf (`in_cart` of it already)."""
    if quantity > product.stock:
        name = f"“{product.name}”"
        if product.stock <= 0:
            shortage = f"{name} has sold out"
        elif in_cart:
            shortage = (
                f"Your cart already holds {in_cart} of {name}; the shop has only {product.stock}"
            )
        else:
            shortage = f"Only {product.stock} of {name} in stock"
        raise Conflict(
            f"{shortage}: your cart is unchanged.",
            items=[asdict(ShortLine(product.id, product.name, quantity, product.stock))],
        )


def _held_line_or_none(user: User, product_id: int) -> CartItem | None:
    """The cart's line of a product (None if absent), held until the transaction ends.

    A product delete, which erases the line, then comes before or after this change, never
    between its read and its write.
    """
    return db.session.scalar(
        select(CartItem)
        .where(CartItem.user_id == user.id, CartItem.product_id == product_id)
        .with_for_update(of=CartItem)
    )


def _held_line(user: User, product_id: int) -> CartItem:
    """As `_held_line_or_none`, but a 404 when the product is not in the cart."""
    item = _held_line_or_none(user, product_id)
    if item is None:
        raise ApiError("That product is not in your cart.", status=404)
    return item


def add_to_cart(user: User, product_id: int, quantity: int) -> Cart:
    """Put `quantity` more of a product in the cart (added to a line already there).

    The line is held before the product, as a product delete and checkout take them.
    """
    with _write_transaction():
        _lock_cart(user)
        item = _held_line_or_none(user, product_id)
        product = catalog.product_to_reference(product_id)
        total = quantity + (item.quantity if item else 0)
        # Stock first: a quantity the request may send (1 to 999) that the shop has not got is
        # a 409, even when the line would also pass 999; the line's cap is the 400 otherwise.
        _check_stock(product, total, in_cart=item.quantity if item else 0)
        _check_quantity(total)
        if item is None:
            db.session.add(CartItem(user_id=user.id, product_id=product_id, quantity=total))
        else:
            item.quantity = total
        db.session.commit()
    return view_cart(user)


def set_cart_quantity(user: User, product_id: int, quantity: int) -> Cart:
    """Set a line's quantity; 0 removes the line."""
    with _write_transaction():
        _lock_cart(user)
        item = _held_line(user, product_id)
        if quantity == 0:
            db.session.delete(item)
        else:
            _check_quantity(quantity)
            _check_stock(catalog.get_product(product_id), quantity)
            item.quantity = quantity
        db.session.commit()
    return view_cart(user)


def remove_from_cart(user: User, product_id: int) -> Cart:
    """Take a line out of the cart; 404 when it is not there."""
    with _write_transaction():
        _lock_cart(user)
        db.session.delete(_held_line(user, product_id))
        db.session.commit()
    return view_cart(user)


# --- checkout ----------------------------------------------------------------------------


def check_idempotency_key(key: str | None) -> str | None:
    """The key as given, or a 400 naming the header: empty, too long or not printable ASCII.

    The one check of a key, for the API's header and the checkout page's hidden field.
    """
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        why = f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters"
        raise ApiError(f"Idempotency-Key {why}.", fields={"Idempotency-Key": why})
    return key


def _order_for_key(user: User, key: str | None) -> Order | None:
    if key is None:
        return None
    return db.session.scalar(
        select(Order).where(Order.user_id == user.id, Order.idempotency_key == key)
    )


def _take_stock(items: list[CartItem]) -> list[ShortLine]:
    """Decrement stock line by line, in product order (no deadlocks); return short lines."""
    short = []
    for item in sorted(items, key=lambda i: i.product_id):
        taken = db.session.execute(
            update(Product)
            .where(
                Product.id == item.product_id,
                Product.active.is_(True),
                Product.stock >= item.quantity,
            )
            .values(stock=Product.stock - item.quantity)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            short.append(ShortLine(item.product_id, item.product.name, item.quantity, 0))
    return short


def _reread_products(items: list[CartItem]) -> None:
    """Read the products again now that taking their stock holds their rows.

    The cart was read before: a price changed since then would be charged as it was, with
    stock taken after the change. Held, the rows stay as the order records them until the
    transaction ends.
    """
    ids = [item.product_id for item in items]
    db.session.execute(
        select(Product).where(Product.id.in_(ids)).execution_options(populate_existing=True)
    ).all()


def _refuse_short(short: list[ShortLine]) -> None:
    """Undo everything, then say which lines could not be served and what is left."""
    db.session.rollback()
    ids = [line.product_id for line in short]
    rows = db.session.execute(
        select(Product.id, Product.stock).where(Product.id.in_(ids), Product.active.is_(True))
    )
    left = {product_id: stock for product_id, stock in rows}
    for line in short:
        line.available = left.get(line.product_id, 0)
    withdrawn = [line.name for line in short if line.product_id not in left]
    scarce = [line.name for line in short if line.product_id in left]
    reasons = [f"Not enough stock for: {', '.join(scarce)}."] if scarce else []
    if withdrawn:
        reasons.append(f"No longer on sale: {', '.join(withdrawn)}.")
    raise Conflict(" ".join(reasons), items=[asdict(line) for line in short])


def _place_order(user: User, items: list[CartItem], key: str | None) -> Order:
    order = Order(
        user_id=user.id,
        status="placed",
        currency=catalog.shop_currency(),
        idempotency_key=key,
        total_cents=sum(i.quantity * i.product.price_cents for i in items),
    )
    for item in items:
        order.items.append(
            OrderItem(
                product_id=item.product_id,
                sku=item.product.sku,
                name=item.product.name,
                quantity=item.quantity,
                unit_price_cents=item.product.price_cents,
                line_total_cents=item.quantity * item.product.price_cents,
            )
        )
    db.session.add(order)
    db.session.flush()
    return order


def checkout(
    user: User, idempotency_key: str | None = None, *, reviewed: str | None = None
) -> tuple[Order, bool]:
    """Turn the cart into an order in one transaction; returns (order, newly placed).

    With an idempotency key already used by this user, the first order is returned and
    nothing else happens. Short stock anywhere is a 409 naming the lines, and nothing
    changes. A concurrent retry with the same key loses on the unique constraint and
    gets the first order too. Prices are read once the stock is taken, from the rows that
    taking holds, so an order pays the price of the moment its stock was taken.

    `reviewed` is the `Cart.fingerprint` the shopper confirmed (the checkout page): if the
    lines or prices held now differ from it, nothing is ordered (`CartChanged`).
    """
    key = check_idempotency_key(idempotency_key)
    with _write_transaction():
        _lock_cart(user)
        items = _cart_items(user, lock=True)
        existing = _order_for_key(user, key)
        if existing is not None:
            db.session.rollback()
            return existing, False
        if not items:
            db.session.rollback()
            raise ApiError("Your cart is empty.")
        short = _take_stock(items)
        if short:
            _refuse_short(short)
        _reread_products(items)
        if reviewed is not None and reviewed != _priced(items).fingerprint:
            db.session.rollback()
            raise CartChanged(
                "Your cart or its prices changed since you reviewed it: check the order "
                "again, then place it."
            )
        try:
            order = _place_order(user, items, key)
        except IntegrityError:
            db.session.rollback()
            first = _order_for_key(user, key)
            if first is None:
                raise Conflict("The order could not be placed; try again.") from None
            return first, False
        db.session.execute(delete(CartItem).where(CartItem.user_id == user.id))
        db.session.commit()
    return order, True


# --- orders ------------------------------------------------------------------------------


def orders_visible_to(user: User, *, with_buyers: bool = False) -> Select:
    """Newest first: the user's own orders, or everyone's for staff and admins, who may ask
    for who placed each (read for the whole page at once; the API does not show them)."""
    statement = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if not is_staff(user):
        return statement.where(Order.user_id == user.id)
    return statement.options(selectinload(Order.buyer)) if with_buyers else statement


def _return_stock(items: list[OrderItem]) -> None:
    """Put the lines' quantities back in stock, in product order as `_take_stock` takes them:
    in the order the lines were bought, a cancel and a checkout of the same products could
    each hold a row the other waits for."""
    for item in sorted(items, key=lambda i: i.product_id):
        db.session.execute(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + item.quantity)
            .execution_options(synchronize_session=False)
        )


def get_order(user: User, order_id: int) -> Order:
    """An order the user may see; someone else's is a 404 so its existence does not leak."""
    order = db.session.get(Order, order_id)
    if order is None or (order.user_id != user.id and not is_staff(user)):
        raise ApiError("No such order.", status=404)
    return order


def cancel_order(user: User, order_id: int) -> Order:
    """Cancel a placed order and put its items back in stock, in one transaction.

    An order is placed or cancelled: one the UPDATE did not match was cancelled already,
    perhaps by a request that ran meanwhile (so its status as read before may be stale).
    """
    order = get_order(user, order_id)
    with _write_transaction():
        cancelled = db.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == "placed")
            .values(status="cancelled", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if cancelled.rowcount != 1:
            db.session.rollback()
            raise Conflict("This order is already cancelled.", order_status="cancelled")
        _return_stock(order.items)
        db.session.commit()
    db.session.refresh(order)
    return order
