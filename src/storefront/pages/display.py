"""How the pages show money, stock and lists: Jinja filters and a page-of-results helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
LOW_STOCK = 5


def money(cents: int, currency: str) -> str:
    """`1234550, "EUR"` → `€12,345.50`; unknown currencies keep their code: `12.50 CHF`."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    amount = f"{whole:,}.{fraction:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def stock_label(stock: int) -> tuple[str, str]:
    """What a shopper reads about stock, and the CSS class that colours it."""
    if stock <= 0:
        return "Sold out", "stock-out"
    if stock <= LOW_STOCK:
        return f"Only {stock} left", "stock-low"
    return "In stock", "stock-in"


@dataclass
class PageOfResults:
    """One page of a list, with what the pager needs to link the others."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
