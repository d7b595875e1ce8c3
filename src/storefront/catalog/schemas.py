"""Request and response shapes of the catalogue API."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..apikit import InputModel, OutputModel, PageQuery, Text, Timestamp, UpdateModel

#: Prices and stock stay far below what a 32-bit column holds, so sums cannot overflow.
MAX_PRICE_CENTS = 1_000_000_000
MAX_STOCK = 1_000_000_000

Sku = Text(
    max_length=64,
    min_length=1,
    pattern=(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        "must start with a letter or digit, then hold only letters A-Z, digits, '.', '-' or '_'",
    ),
)
ProductName = Text(max_length=200, min_length=1, blank=False)
Description = Text(max_length=5000)
Currency = Text(
    max_length=3,
    min_length=3,
    pattern=(r"^[A-Z]{3}$", "must be an ISO 4217 code in capitals, such as EUR"),
)

ProductSort = Literal["name", "price", "-price", "newest"]


class ProductCreate(InputModel):
    sku: Sku  # type: ignore[valid-type]
    name: ProductName  # type: ignore[valid-type]
    description: Description = ""  # type: ignore[valid-type]
    price_cents: int = Field(ge=0, le=MAX_PRICE_CENTS)
    currency: Currency | None = None  # type: ignore[valid-type]
    stock: int = Field(0, ge=0, le=MAX_STOCK)
    active: bool = True


class ProductUpdate(UpdateModel):
    """Every field optional; a field sent as `null` is refused rather than erased."""

    sku: Sku | None = None  # type: ignore[valid-type]
    name: ProductName | None = None  # type: ignore[valid-type]
    description: Description | None = None  # type: ignore[valid-type]
    price_cents: int | None = Field(None, ge=0, le=MAX_PRICE_CENTS)
    currency: Currency | None = None  # type: ignore[valid-type]
    stock: int | None = Field(None, ge=0, le=MAX_STOCK)
    active: bool | None = None


class ProductQuery(PageQuery):
    """`?q=` searches name and description; `?sort=` picks the order."""

    q: Text(max_length=200) | None = None  # type: ignore[valid-type]
    sort: ProductSort = "name"


class ProductOut(OutputModel):
    id: int
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    stock: int
    active: bool
    image_url: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
