"""Request and response shapes of the cart and orders API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..apikit import MAX_ID, InputModel, OutputModel, Timestamp
from .service import MAX_IDEMPOTENCY_KEY_LENGTH, MAX_QUANTITY


class CartItemIn(InputModel):
    product_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class CartQuantityIn(InputModel):
    """A line's new quantity; 0 takes the line out of the cart."""

    quantity: int = Field(ge=0, le=MAX_QUANTITY)


class CheckoutHeaders(BaseModel):
    """`Idempotency-Key`: the same key again returns the order it placed, never a second one."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        description=f"1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters "
        "(checked by the checkout, which names the header in its 400)",
    )


class CartLineOut(OutputModel):
    product_id: int
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class CartOut(OutputModel):
    items: list[CartLineOut]
    total_cents: int
    currency: str


class OrderLineOut(OutputModel):
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderOut(OutputModel):
    """Exactly the keys API.md lists for an order."""

    id: int
    status: str
    items: list[OrderLineOut]
    total_cents: int
    currency: str
    created_at: Timestamp
