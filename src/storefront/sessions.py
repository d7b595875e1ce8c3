"""Server-side sessions: Flask-Session's machinery over our own migrated table or Redis.

Flask-Session's bundled SQLAlchemy backend creates its table outside the migrations and
writes naive timestamps, so the database store here keeps Flask-Session's cookie, id and
serialisation handling and only supplies the three storage operations.

Whichever store holds the session data, each logged-in session also has a `user_sessions`
row (keyed by a hash of the session id, never the id itself): it is what a user lists and
ends, and it carries the created / last-seen times behind the idle and absolute lifetimes.
A session marked as registered whose row is gone has been ended and logs nobody in. A
session that only has `session["user_id"]` (written by a test with
`client.session_transaction()`, as the tutorial does) is registered on its first request.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import ForeignKey, LargeBinary, Select, String, delete, select, update
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column

from .apikit import is_row_id
from .extensions import (
    IDS_NEVER_REUSED,
    REDIS_TIMEOUTS,
    Base,
    begin_write_transaction,
    commits_keep_what_was_read,
    db,
    utcnow,
)

USER_KEY = "user_id"
#: A user id written as text (Flask-Login's habit), which the session then keeps as the int.
_USER_ID_TEXT = re.compile(r"[1-9][0-9]{0,18}")
#: The shape of the session ids Flask-Session issues (`secrets.token_urlsafe`).
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
#: Set on sessions that have a `user_sessions` row, so an ended one cannot be re-adopted.
REGISTERED_KEY = "registered"
#: How long a session nobody is logged in to is stored (see `AnonymousSessionsKeptShort`).
ANONYMOUS_SESSION_LIFETIME = timedelta(days=1)
#: What a session store raises when it is down, too slow or unreadable (a damaged SQLite
#: file); raised again under the error handlers, which tell an outage (503) from a bug.
STORE_ERRORS = (DatabaseError, RedisError)


class StoredSession(Base):
    """One row per live browser session; deleting the row ends the session."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expiry: Mapped[datetime] = mapped_column(index=True)


class UserSession(Base):
    """A logged-in session as its user sees it: listed and ended through `/api/me/sessions`."""

    __tablename__ = "user_sessions"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    @hybrid_method
    def alive_at(self, now: datetime, idle: timedelta, absolute: timedelta) -> Any:
        """Seen within `idle` and started within `absolute`: one rule, read in Python for
        the request's own session and in SQL for lists and clean-ups."""
        return (self.last_seen_at > now - idle) & (self.created_at > now - absolute)


_COOKIES_AFTER_SESSION = "cookies_after_session"


def set_cookie_after_session(**cookie: Any) -> None:
    """Set a cookie on this answer after the session's own, which stays the first
    `Set-Cookie` header: a client reading one header (`headers["Set-Cookie"]`) finds it."""
    g.setdefault(_COOKIES_AFTER_SESSION, []).append(cookie)


class StoreFailures:
    """Mixed into a session interface: a store that is down is a 503, never a crash.

    Flask opens the session before any error handler can run, and a failure there left the
    request without a session, so even the error page failed. The failure is kept instead
    (`raise_session_store_failure` raises it under the handlers) with an empty session in
    its place; once the store has failed, nothing more is saved to it in this request.
    """

    def open_session(self, app, request):
        try:
            return super().open_session(app, request)  # type: ignore[misc]
        except STORE_ERRORS as error:
            session_store_failed(error)
            return self.session_class(  # type: ignore[attr-defined]
                sid=self._generate_sid(self.sid_length),  # type: ignore[attr-defined]
                permanent=self.permanent,  # type: ignore[attr-defined]
            )

    def save_session(self, app, session, response) -> None:
        if g.get("session_store_error") is not None:
            return
        try:
            super().save_session(app, session, response)  # type: ignore[misc]
        except STORE_ERRORS as error:
            session_store_failed(error)
            raise
        for cookie in g.pop(_COOKIES_AFTER_SESSION, []):
            response.set_cookie(**cookie)


class AnonymousSessionsKeptShort:
    """Mixed into a session interface: a session nobody is logged in to is stored for
    `ANONYMOUS_SESSION_LIFETIME`, not the login lifetime.

    Each visitor who opens a form gets a stored session for its CSRF token, so a stream of
    cookie-less requests to `/login` adds a session each; kept as long as a login, they
    would pile up for weeks. A day outlasts any form's token (Flask-WTF's hour).
    """

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        if USER_KEY not in session:
            session_lifetime = min(session_lifetime, ANONYMOUS_SESSION_LIFETIME)
        super()._upsert_session(session_lifetime, session, store_id)  # type: ignore[misc]


class RedisStore(StoreFailures, AnonymousSessionsKeptShort, RedisSessionInterface):
    """Flask-Session's Redis store, answering 503 while Redis is down."""


class DatabaseStore(ServerSideSessionInterface):
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
        """The stored data of a session id sent in a cookie, or None.

        A cookie is the client's to forge: a value that is no id this store issued (URL-safe
        base64) is not looked up, since PostgreSQL refuses a NUL in it with an error.
        """
        if not _SESSION_ID.fullmatch(store_id.removeprefix(self.key_prefix)):
            return None
        row = db.session.execute(
            select(StoredSession.data, StoredSession.expiry).where(
                StoredSession.session_id == store_id
            )
        ).first()
        if row is None or row.expiry <= utcnow():
            return None
        return self.serializer.decode(row.data)

    def _delete_session(self, store_id: str) -> None:
        begin_write_transaction()
        db.session.execute(delete(StoredSession).where(StoredSession.session_id == store_id))
        db.session.commit()

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        data = self.serializer.encode(session)
        expiry = utcnow() + session_lifetime
        begin_write_transaction()
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


class DatabaseSessionInterface(StoreFailures, AnonymousSessionsKeptShort, DatabaseStore):
    """The database store, answering 503 while the database is down."""


def init_sessions(app: Flask) -> None:
    """Choose the session store: Redis when `REDIS_URL` is set, else the database.

    Flask's own default refreshes a permanent session on every request: each logged-in read
    would rewrite the stored session and send its cookie again. Activity is recorded in
    `user_sessions` instead, so the stored session changes only when its data does.
    """
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    if app.config.get("REDIS_URL"):
        app.session_interface = RedisStore(
            app,
            client=Redis.from_url(app.config["REDIS_URL"], **REDIS_TIMEOUTS),
            key_prefix=f"{app.config['REDIS_KEY_PREFIX']}:session:",
            permanent=True,
            sid_length=32,
        )
    else:
        app.session_interface = DatabaseSessionInterface(app)


def raise_session_store_failure() -> None:
    """Raise the failure of the session store met while opening this request's session.

    The health probes need no session, so they are answered all the same.
    """
    error = g.get("session_store_error")
    if error is not None and request.blueprint != "ops":
        raise error


def session_store_failed(error: Exception) -> None:
    """Record a store failure: this request's answer is a 503 and saves no session."""
    g.session_store_error = error


def session_store_ready() -> bool:
    """False when sessions live in Redis and Redis does not answer."""
    interface = current_app.session_interface
    if not isinstance(interface, RedisStore):
        return True
    try:
        interface.client.ping()
    except RedisError:
        return False
    return True


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _user_agent() -> str:
    """The browser's name for the session list, as text both databases store: no NUL
    (PostgreSQL refuses it), and no lone surrogate, which no UTF-8 holds (a server reads
    headers as Latin-1, so only an in-process client such as Flask's test client sends one).
    """
    name = request.user_agent.string.replace("\x00", "")[:255]
    return name.encode("utf-8", "replace").decode("utf-8")


def _lifetimes() -> tuple[timedelta, timedelta]:
    """(idle, absolute) lifetime of a logged-in session."""
    cfg = current_app.config
    return (
        timedelta(seconds=cfg["SESSION_IDLE_TIMEOUT_SECONDS"]),
        timedelta(seconds=cfg["SESSION_LIFETIME_SECONDS"]),
    )


def _register(user_id: int) -> UserSession:
    begin_write_transaction()
    now = utcnow()
    row = UserSession(
        user_id=user_id,
        sid_hash=_sid_hash(session.sid),  # type: ignore[attr-defined]
        user_agent=_user_agent(),
        created_at=now,
        last_seen_at=now,
    )
    db.session.add(row)
    db.session.commit()
    session[REGISTERED_KEY] = True
    return row


def _forget_current_session() -> None:
    """Drop this request's session data (the store entry goes when the response is saved).

    An empty session is left as it is: clearing it would still delete its entry, so a
    visitor's logout would need the store, and be a 503 while Redis is down.
    """
    if session:
        session.clear()
    g.pop("user_session_id", None)
    g.pop("current_user", None)


def start_user_session(user_id: int) -> UserSession:
    """Log `user_id` in on a fresh session id (no fixation) and register the session."""
    end_current_session()
    session[USER_KEY] = user_id
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
    row = _register(user_id)
    g.user_session_id = row.id
    return row


def _touch(row: UserSession, now: datetime) -> bool:
    """Record activity, at most about once a minute, so reads stay reads.

    False when the row is gone: the session was ended (logout, another device, a new
    password, the account deleted) since it was read. The UPDATE is a plain statement whose
    row count says so; the ORM would raise on the vanished row instead.
    """
    idle, _absolute = _lifetimes()
    if now - row.last_seen_at <= min(timedelta(minutes=1), idle / 10):
        return True
    session_id = row.id
    begin_write_transaction()
    touched = db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return touched.rowcount == 1


def _adopt(user_id: int):
    """Register a session that names a user but has no row yet (a tutorial-style login).

    Several first requests of one such session may come at once: one registers it and the
    others, refused the same row, use that one. A user deleted meanwhile logs nobody in.
    The user stays as read, not expired by the commit, so a delete committed after it is
    met by whatever holds the account later (a 401), not by a reload that finds nothing.
    """
    from .accounts.models import User

    user = db.session.get(User, user_id)
    if user is None:
        _forget_current_session()
        return None
    try:
        with commits_keep_what_was_read():
            row_id = _register(user_id).id
    except IntegrityError:  # registered by a request at the same time, or the user is gone
        db.session.rollback()
        row_id = db.session.scalar(
            select(UserSession.id).where(
                UserSession.sid_hash == _sid_hash(session.sid),  # type: ignore[attr-defined]
                UserSession.user_id == user_id,
            )
        )
        user = db.session.get(User, user_id) if row_id is not None else None
        if user is None:
            _forget_current_session()
            return None
        session[REGISTERED_KEY] = True
    g.user_session_id = row_id
    return user


def resolve_session_user():
    """The user this request's session logs in, or None; ends dead sessions on the way.

    Anonymous requests (no `user_id` in the session) run no query at all.
    """
    from .accounts.models import User

    user_id = session.get(USER_KEY)
    if isinstance(user_id, str) and _USER_ID_TEXT.fullmatch(user_id):
        user_id = session[USER_KEY] = int(user_id)
    if not is_row_id(user_id):
        return None
    found = db.session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.sid_hash == _sid_hash(session.sid))  # type: ignore[attr-defined]
    ).first()
    if found is None:
        if session.get(REGISTERED_KEY):  # its row was deleted: the session was ended
            _forget_current_session()
            return None
        return _adopt(user_id)
    row, user = found
    if row.user_id != user_id:  # `user_id` was rewritten directly: a new login
        begin_write_transaction()
        db.session.delete(row)
        db.session.commit()
        return _adopt(user_id)
    now = utcnow()
    if not row.alive_at(now, *_lifetimes()):
        begin_write_transaction()
        db.session.delete(row)
        db.session.commit()
        _forget_current_session()
        return None
    g.user_session_id = row.id
    if not _touch(row, now):
        _forget_current_session()
        return None
    return user


def current_session_id() -> int | None:
    """Id of this request's `user_sessions` row, once the user has been resolved."""
    return g.get("user_session_id")


def user_sessions_query(user_id: int) -> Select:
    """The user's live sessions, most recently used first."""
    return (
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.alive_at(utcnow(), *_lifetimes()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )


def list_user_sessions(user_id: int) -> list[UserSession]:
    """All of the user's live sessions (the account page shows them on one page)."""
    return list(db.session.scalars(user_sessions_query(user_id)))


def end_user_session(user_id: int, session_id: int) -> bool:
    """End one of the user's sessions; False when it has no such session."""
    begin_write_transaction()
    result = db.session.execute(
        delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
    )
    db.session.commit()
    if result.rowcount == 1 and session_id == current_session_id():
        _forget_current_session()
    return result.rowcount == 1


def end_user_sessions(user_id: int, *, keep_session_id: int | None = None) -> None:
    """End every session of the user, except `keep_session_id` when given."""
    begin_write_transaction()
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session_id is not None:
        statement = statement.where(UserSession.id != keep_session_id)
    db.session.execute(statement)
    db.session.commit()
    # This request's session goes too unless it is the one kept, even when the request has
    # not looked its user up (a reset link followed while logged in): else the next request
    # would find it ended and clear it, and with it the message this one leaves.
    kept = keep_session_id is not None and current_session_id() == keep_session_id
    if session.get(USER_KEY) == user_id and not kept:
        _forget_current_session()


def end_current_session() -> None:
    """Log out this request's session: its row goes and its stored data is deleted."""
    if session.get(USER_KEY) is not None:
        begin_write_transaction()
        db.session.execute(
            delete(UserSession).where(
                UserSession.sid_hash == _sid_hash(session.sid)  # type: ignore[attr-defined]
            )
        )
        db.session.commit()
    _forget_current_session()


def delete_dead_user_sessions() -> int:
    """Remove the rows of sessions past their idle or absolute lifetime; returns how many."""
    result = db.session.execute(
        delete(UserSession).where(~UserSession.alive_at(utcnow(), *_lifetimes()))
    )
    db.session.commit()
    return result.rowcount
