"""The `products` table: what the shop sells, at which price, and how many are left."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Base, utcnow


class Product(Base):
    """A product. Price and stock are integers the database itself keeps at zero or more."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Product images belong to the media package (issue 5), which sets them through
    # `PUT /api/products/<id>/image`; until then a product has no picture.
    @property
    def image_url(self) -> str | None:
        """URL of the product's picture, or None while it has none."""
        return None

    @property
    def thumbnail_url(self) -> str | None:
        """URL of the picture's thumbnail, or None while it has none."""
        return None

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.sku!r} stock={self.stock}>"
