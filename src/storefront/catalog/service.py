"""Catalogue rules: who sees which products, searching and sorting, safe changes and deletes.

Plain functions with plain arguments, so the JSON API and the HTML pages share them.
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import Select, func, or_, select, true
from sqlalchemy.exc import IntegrityError

from ..apikit import ApiError, Conflict
from ..extensions import commits_keep_what_was_read, db
from ..orders.models import CartItem
from .models import Product

#: Each order matches an index of `catalog.models` (read forwards or backwards).
SORT_ORDERS = {
    "name": (Product.name, Product.id),
    "price": (Product.price_cents, Product.id),
    "-price": (Product.price_cents.desc(), Product.id.desc()),
    "newest": (Product.created_at.desc(), Product.id.desc()),
}


#: See `catalogue_page`.
DEEP_PAGE_OFFSET = 1000
#: See `count_active_products`.
EXACT_COUNT_LIMIT = 1000
COUNT_TTL_SECONDS = 10.0
MAX_KEPT_COUNTS = 1000


def shop_currency() -> str:
    """The one currency the shop sells in (setting `CURRENCY`, default EUR)."""
    return current_app.config["CURRENCY"]


def _like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards in `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: The most words of a search that count: each is two LIKE scans of the catalogue, and 60
#: one-letter words made one anonymous request cost seconds of database time.
MAX_SEARCH_WORDS = 5


def _search_words(q: str | None) -> list[str]:
    """The first `MAX_SEARCH_WORDS` words of a search, each once whatever its case (as they
    match), kept as typed: Python's lower case is not the database's (`İ`, `Σ`)."""
    seen: set[str] = set()
    words = []
    for word in (q or "").split():
        if word.lower() not in seen:
            seen.add(word.lower())
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def _active_matching(q: str | None) -> list[Any]:
    """WHERE terms: active, and each word of `q` (if any) in the name or the description,
    in any order: "mug blue" finds "Blue mug", and "blue porcelain" a blue mug of porcelain."""
    terms: list[Any] = [Product.active == true()]
    for word in _search_words(q):
        pattern = _like_pattern(word)
        terms.append(
            or_(
                Product.name.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            )
        )
    return terms


def count_active_products(q: str | None = None) -> int:
    """How many active products match `q`, without scanning a large catalogue each time.

    A count above `EXACT_COUNT_LIMIT` is kept per search for `COUNT_TTL_SECONDS` (in this
    process; catalogue changes made here forget it at once) and answered without reading.
    Otherwise a probe reads at most that many index entries, so a smaller count is exact
    on every call, and only a larger one costs a full count. A search is kept by its words
    in lower case, as it matches, and at most `MAX_KEPT_COUNTS` of them, so a client sending
    every spelling of a word cannot fill the worker's memory.
    """
    lock, kept = _kept_counts()
    key = " ".join(_search_words(q)).lower()
    with lock:
        total = kept.get(key)
    if total is not None:
        return total
    terms = _active_matching(q)
    probe = select(Product.id).where(*terms).limit(EXACT_COUNT_LIMIT + 1).subquery()
    seen = db.session.scalar(select(func.count()).select_from(probe)) or 0
    if seen <= EXACT_COUNT_LIMIT:
        return seen
    total = db.session.scalar(select(func.count()).select_from(Product).where(*terms)) or 0
    with lock:
        kept[key] = total
    return total


def _kept_counts() -> tuple[threading.Lock, TTLCache]:
    """This app's kept counts, with the lock that guards them (`flask run` serves threads)."""
    kept = current_app.extensions.get("catalog.large_counts")
    if kept is None:  # setdefault: two threads starting at once keep the same one
        fresh = (threading.Lock(), TTLCache(maxsize=MAX_KEPT_COUNTS, ttl=COUNT_TTL_SECONDS))
        kept = current_app.extensions.setdefault("catalog.large_counts", fresh)
    return kept


def forget_kept_counts() -> None:
    """Forget every kept count: the catalogue changed (or a test's data was rolled back)."""
    current_app.extensions.pop("catalog.large_counts", None)


def catalogue_page(q: str | None, sort: str, page: int, per_page: int) -> tuple[list[Product], int]:
    """One page of the active products matching `q` in `sort` order, and their number.

    Pages are read from the index of their order. From `DEEP_PAGE_OFFSET` rows on, the
    page's ids are found first in that index alone, skipping the entries before the page
    without reading their rows (an index-only scan), and only the page's rows are read:
    five times faster at offset 50 000, but a fifth slower than a plain read for the first
    pages. See `count_active_products` for the total.
    """
    order = SORT_ORDERS[sort]
    offset = (page - 1) * per_page
    deep = offset >= DEEP_PAGE_OFFSET
    page_query = (
        select(Product.id if deep else Product)
        .where(*_active_matching(q))
        .order_by(*order)
        .limit(per_page)
        .offset(offset)
    )
    if deep:
        page_ids = page_query.subquery()
        page_query = select(Product).join(page_ids, Product.id == page_ids.c.id).order_by(*order)
    products = list(db.session.scalars(page_query).unique())
    return products, count_active_products(q)


def every_product_newest_first() -> Select:
    """Every product, on sale or not, as staff manage them."""
    return select(Product).order_by(Product.created_at.desc(), Product.id.desc())


def get_product(product_id: int, *, include_inactive: bool = False) -> Product:
    """The product, or a 404; inactive products exist only for those who manage them."""
    product = db.session.get(Product, product_id)
    if product is None or not (product.active or include_inactive):
        raise ApiError("No such product.", status=404)
    return product


def product_to_reference(product_id: int) -> Product:
    """The active product, kept from being erased until the transaction ends; else a 404.

    For a new row that points at it (a cart line): a delete then waits and erases that row
    with the product, instead of making its insert fail. PostgreSQL `FOR KEY SHARE`, which
    neither other carts nor checkout's stock updates wait for.
    """
    product = _held_product(product_id, read=True)
    if product is None or not product.active:
        raise ApiError("No such product.", status=404)
    return product


def lock_product(product_id: int) -> Product:
    """The product's row, held until the transaction ends; a 404 once it has been erased.

    A change reads the row and writes it back: holding it makes a concurrent delete wait
    for the change, or the change find the product gone (rather than write to a row that
    vanished). PostgreSQL `FOR NO KEY UPDATE`, which checkout's stock UPDATE also takes;
    on SQLite the write transaction already holds everything.
    """
    product = _held_product(product_id, read=False)
    if product is None:
        raise ApiError("No such product.", status=404)
    return product


def _held_product(product_id: int, *, read: bool) -> Product | None:
    """The product's row as it is now, held until the transaction ends: `FOR KEY SHARE`
    when `read`, else `FOR NO KEY UPDATE` (PostgreSQL; SQLite ignores both)."""
    return db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update(read=read, key_share=True, of=Product)
        .execution_options(populate_existing=True)
    )


def _check_currency(currency: str | None) -> str:
    expected = shop_currency()
    if currency is not None and currency != expected:
        raise ApiError(
            f"This shop sells in {expected}.", fields={"currency": f"must be {expected}"}
        )
    return expected


SKU_TAKEN = "already used by another product"


def _ensure_sku_free(sku: str, product_id: int | None = None) -> None:
    """409 when another product has this SKU, in any case (see `Product`)."""
    owner = db.session.scalar(select(Product.id).where(func.lower(Product.sku) == sku.lower()))
    if owner is not None and owner != product_id:
        raise Conflict("A product with this SKU exists.", fields={"sku": SKU_TAKEN})


def _commit_product(product: Product) -> Product:
    """Commit; a unique-SKU race lost to another writer is a 409, not a 500 (any other
    broken constraint is a bug, and stays one)."""
    sku, product_id = product.sku, product.id
    forget_kept_counts()
    try:
        with commits_keep_what_was_read():
            db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _ensure_sku_free(sku, product_id)  # now sees the other writer's product
        raise
    return product


def create_product(
    *,
    sku: str,
    name: str,
    price_cents: int,
    description: str = "",
    currency: str | None = None,
    stock: int = 0,
    active: bool = True,
) -> Product:
    """Add a product to the catalogue; 409 when the SKU is taken."""
    currency = _check_currency(currency)
    _ensure_sku_free(sku)
    product = Product(
        sku=sku,
        name=name,
        description=description,
        price_cents=price_cents,
        currency=currency,
        stock=stock,
        active=active,
    )
    db.session.add(product)
    return _commit_product(product)


def update_product(product: Product, **changes: Any) -> Product:
    """Change the given fields of `product`; 409 when the new SKU is taken, 404 once erased."""
    product = lock_product(product.id)
    if "currency" in changes:
        _check_currency(changes["currency"])
    if "sku" in changes:
        _ensure_sku_free(changes["sku"], product.id)
    for name, value in changes.items():
        setattr(product, name, value)
    return _commit_product(product)


def delete_product(product_id: int) -> None:
    """Erase the product and its picture, or only deactivate it when orders point at it; a
    404 when there is none, or a delete at the same moment erased it first.

    The order lines' foreign key decides, so a product ordered at the same moment is still
    kept. The product's cart lines, which the delete erases, are locked before the product:
    checkout locks its lines before it takes stock, and the opposite order would deadlock
    with it. A deactivated product keeps its picture, since it may come back on sale.
    """
    from ..media.service import delete_picture_file

    forget_kept_counts()
    db.session.execute(
        select(CartItem.user_id).where(CartItem.product_id == product_id).with_for_update()
    )
    product = lock_product(product_id)
    picture_file_id = product.image_file_id
    db.session.delete(product)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        product = db.session.get(Product, product_id)
        if product is not None:
            product.active = False
            db.session.commit()
        return
    if picture_file_id is not None:
        delete_picture_file(picture_file_id)
