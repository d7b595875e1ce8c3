"""The `users` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import IDS_NEVER_REUSED, Base, utcnow


class User(Base):
    """A shop account. `role` is one of customer, staff, admin.

    A username keeps the case it was registered with, but is unique regardless of case
    (`erin` and `Erin` are one name), so a login in any case names exactly one account.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('customer', 'staff', 'admin')", name="role"),
        Index("uq_users_username_lower", text("lower(username)"), unique=True),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="customer")
    confirmed: Mapped[bool] = mapped_column(default=False)
    #: Nonce of the one live confirmation / reset link; replaced when a link is sent or used.
    confirm_nonce: Mapped[str | None] = mapped_column(String(32), default=None)
    reset_nonce: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: When the password was last set anew (not rehashed); None: as created.
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r} {self.role}>"
