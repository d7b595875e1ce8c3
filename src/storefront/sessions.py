"""Server-side sessions: Flask-Session's machinery over our own migrated table or Redis.

Flask-Session's bundled SQLAlchemy backend creates its table outside the migrations and
writes naive timestamps, so the database store here keeps Flask-Session's cookie, id and
serialisation handling and only supplies the three storage operations.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import Base, db, utcnow


class StoredSession(Base):
    """One row per live browser session; deleting the row ends the session."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expiry: Mapped[datetime] = mapped_column(index=True)


class DatabaseSessionInterface(ServerSideSessionInterface):
    """Keeps sessions in the `sessions` table through the app's own database session."""

    ttl = False

    def __init__(self, app: Flask) -> None:
        super().__init__(
            app,
            key_prefix="session:",
            permanent=True,
            sid_length=32,
            cleanup_n_requests=None,
        )

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        row = db.session.execute(
            select(StoredSession.data, StoredSession.expiry).where(
                StoredSession.session_id == store_id
            )
        ).first()
        if row is None or row.expiry <= utcnow():
            return None
        return self.serializer.decode(row.data)

    def _delete_session(self, store_id: str) -> None:
        db.session.execute(delete(StoredSession).where(StoredSession.session_id == store_id))
        db.session.commit()

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        data = self.serializer.encode(session)
        expiry = utcnow() + session_lifetime
        row = db.session.execute(
            select(StoredSession).where(StoredSession.session_id == store_id)
        ).scalar_one_or_none()
        if row is None:
            db.session.add(StoredSession(session_id=store_id, data=data, expiry=expiry))
        else:
            row.data, row.expiry = data, expiry
        db.session.commit()

    def _delete_expired_sessions(self) -> None:
        db.session.execute(delete(StoredSession).where(StoredSession.expiry <= utcnow()))
        db.session.commit()

    def _register_cleanup_app_command(self) -> None:
        """Expired rows are removed by `storefront sessions-cleanup` (see cli.py)."""


def init_sessions(app: Flask) -> None:
    """Choose the session store: Redis when `REDIS_URL` is set, else the database."""
    app.config.setdefault("SESSION_REFRESH_EACH_REQUEST", False)
    if app.config.get("REDIS_URL"):
        from redis import Redis

        app.session_interface = RedisSessionInterface(
            app,
            client=Redis.from_url(app.config["REDIS_URL"]),
            key_prefix="storefront:session:",
            permanent=True,
            sid_length=32,
        )
    else:
        app.session_interface = DatabaseSessionInterface(app)
