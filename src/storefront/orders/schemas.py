"""Request and response shapes of the cart and orders API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..apikit import MAX_ID, InputModel, OutputModel, Timestamp, without_null
from .service import MAX_IDEMPOTENCY_KEY_LENGTH, MAX_QUANTITY, ShortLine


class CartItemIn(InputModel):
    product_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class CartQuantityIn(InputModel):
    """A line's new quantity; 0 takes the line out of the cart."""

    quantity: int = Field(ge=0, le=MAX_QUANTITY)


class CheckoutHeaders(BaseModel):
    """`Idempotency-Key`: the same key again returns the order it placed, never a second one.

    Its rule is `service.check_idempotency_key`'s, which the checkout applies, so the API and
    the checkout page refuse a bad key alike; the document only states it (printable ASCII
    is space to tilde).
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, json_schema_extra=without_null)

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        description=f"1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters "
        "(checked by the checkout, which names the header in its 400)",
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
            "pattern": "^[ -~]*$",
        },
    )


#: The header of a checkout answered with the order an earlier one placed under its key.
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when the `Idempotency-Key` was used before: the order is that "
        "first checkout's, and nothing else happened.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

#: What a 409 for short stock names besides the error: each line short, asked and left.
SHORT_LINES: dict[str, Any] = {
    "type": "array",
    "items": TypeAdapter(ShortLine).json_schema(),
    "description": "The lines short of stock (or no longer on sale): asked for, and left.",
}


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
