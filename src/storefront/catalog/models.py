"""The `products` table: what the shop sells, at which price, and how many are left."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import IDS_NEVER_REUSED, Base, utcnow
from ..media import urls as media_urls

if TYPE_CHECKING:
    from ..media.models import ProductImage


class Product(Base):
    """A product. Price and stock are integers the database itself keeps at zero or more.

    A SKU keeps the case it was given, but is unique regardless of case: `MUG-RED` and
    `mug-red` name one stock item.
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        Index("uq_products_sku_lower", text("lower(sku)"), unique=True),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: The picture, kept by the media package (`PUT /api/products/<id>/image`); loaded
    #: with the product in the same query.
    picture: Mapped[ProductImage | None] = relationship(lazy="joined", viewonly=True)

    @property
    def image_file_id(self) -> int | None:
        """Id of the picture's file, or None while the product has none."""
        return self.picture.file_id if self.picture else None

    @property
    def image_url(self) -> str | None:
        """URL of the product's picture (at most 1280 px), or None while it has none."""
        return media_urls.file_url(self.image_file_id)

    @property
    def thumbnail_url(self) -> str | None:
        """URL of the picture's thumbnail (at most 320 px), for lists and cards."""
        return media_urls.thumbnail_url(self.image_file_id)

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.sku!r} stock={self.stock}>"


# One index per catalogue order, led by `active`: a page of the list is read from the index
# in order, whatever the size of the table (see `catalog.service.SORT_ORDERS`).
Index("ix_products_listing_name", Product.active, Product.name, Product.id)
Index("ix_products_listing_price", Product.active, Product.price_cents, Product.id)
Index("ix_products_listing_newest", Product.active, Product.created_at, Product.id)
