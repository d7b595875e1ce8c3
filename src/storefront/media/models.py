"""The `files` table: one row per upload, pointing at content-addressed bytes.

Many rows may point at the same bytes (identical uploads are stored once); the bytes go
only when the last row pointing at them does. An image row also points at its thumbnail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import IDS_NEVER_REUSED, Base, utcnow


class StoredFile(Base):
    """An uploaded file's metadata; the bytes live in storage under `storage_key`.

    `public` files (product pictures) may be fetched by anyone and cached for long;
    the others only by their owner and staff.
    """

    __tablename__ = "files"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(200), index=True)
    width: Mapped[int | None]
    height: Mapped[int | None]
    thumbnail_key: Mapped[str | None] = mapped_column(String(200), index=True)
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    thumbnail_size: Mapped[int | None] = mapped_column(BigInteger)
    public: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_image(self) -> bool:
        """Whether this is a processed image (it then has a thumbnail)."""
        return self.thumbnail_key is not None


class ProductImage(Base):
    """Which public image is a product's picture: at most one per product.

    A table of its own, so the products table is never rebuilt for it; deleting the
    product deletes this link, and `catalog.service.delete_product` then the image.
    """

    __tablename__ = "product_images"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), unique=True)
