"""How the pages show money, stock and lists: Jinja filters and a page-of-results helper."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import NotFound

from ..apikit import page_count

#: How many page links the pager shows on each side of the current page.
PAGER_REACH = 2

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
LOW_STOCK = 5


def money(cents: int, currency: str) -> str:
    """`1234550, "EUR"` → `€12,345.50`; unknown currencies keep their code: `12.50 CHF`."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    amount = f"{whole:,}.{fraction:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def few_left(stock: int) -> str:
    """How many are left, said of a product running out or a cart line asking for more."""
    return "Sold out" if stock <= 0 else f"Only {stock} left"


def stock_label(stock: int) -> tuple[str, str]:
    """What a shopper reads about stock, and the CSS class that colours it."""
    if stock <= 0:
        return few_left(stock), "stock-out"
    if stock <= LOW_STOCK:
        return few_left(stock), "stock-low"
    return "In stock", "stock-in"


@dataclass
class PageOfResults:
    """One page of a list, with what the pager needs to link the others.

    `query` holds the list's own arguments (search, sort) that every pager link keeps. The
    links are built from it alone, never from the raw query string: a stray `endpoint=` or
    `_external=` there would reach `url_for` as its own keyword (a 500, or links off site).
    A page past the last is a 404 (as Django's paginated views answer), not "page 7 of 2".
    """

    items: list[Any]
    page: int
    per_page: int
    total: int
    query: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.page > self.pages:
            raise NotFound(f"There is no page {self.page}: this list has {self.pages}.")

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def pager_numbers(self) -> Iterator[int | None]:
        """The page numbers the pager links: the first, the last and those near the current
        one, with `None` where numbers are left out. Its length does not grow with the list.
        """
        near = range(max(1, self.page - PAGER_REACH), min(self.pages, self.page + PAGER_REACH) + 1)
        if near.start > 1:
            yield 1
            if near.start > 2:
                yield None
        yield from near
        if near.stop <= self.pages:
            if near.stop < self.pages:
                yield None
            yield self.pages
