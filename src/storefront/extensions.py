"""What every package shares: the extension objects (created once here, bound to an app in
`create_app`), the declarative base and its UTC column type, the database helpers for
writes and deletes, the visitor's address for rate limits, and which email domains count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Network, ip_address
from typing import Any

import email_validator
from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError
from sqlalchemy import DateTime, MetaData, TypeDecorator, delete
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, registry

# Addresses at the names kept for local and test networks (`ann@shop.test`, `bo@host.local`)
# are accepted, by the API and the forms alike: development and test setups use them, and
# mail to them simply goes nowhere. `invalid`, `onion` and `arpa` stay refused.
email_validator.SPECIAL_USE_DOMAIN_NAMES[:] = [
    name
    for name in email_validator.SPECIAL_USE_DOMAIN_NAMES
    if name not in ("test", "local", "localhost")
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone, so without this a value read back would be naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use datetime.now(UTC)")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


#: Table options of a table whose ids are addresses (`/api/users/6`): on SQLite, an id is
#: never given again once its row is deleted (migration 0011), as PostgreSQL never does.
IDS_NEVER_REUSED = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names follow one convention."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


def begin_write_transaction() -> None:
    """End the session's current transaction and start one that may write without failing.

    SQLite cannot turn a transaction that has already read into one that writes while
    another connection is writing: it answers "database is locked" at once, without
    waiting for the busy timeout. Requests with an unsafe method (POST, PUT, PATCH,
    DELETE) therefore take the write lock with BEGIN IMMEDIATE from their first statement
    (`_sqlite_begin` in `storefront/__init__.py`). Anything else that writes, such as the
    session store during a GET, calls this before reading what it is about to change;
    anything pending in the session is committed first. PostgreSQL needs no such thing:
    there it only ends the current transaction.
    """
    db.session.commit()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


#: PostgreSQL's SQLSTATE for a lock not granted within `lock_timeout`.
LOCK_NOT_AVAILABLE = "55P03"


def database_busy(error: DBAPIError) -> bool:
    """Whether a database error is another transaction holding a lock for longer than the
    shop waits (SQLite's "database is locked", PostgreSQL's `lock_timeout`): routine under
    load, not an outage."""
    return (
        "database is locked" in str(error.orig)
        or getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE
    )


def delete_row(record: Any) -> bool:
    """Delete the record's row (not committed) and forget the object; False when another
    request deleted it first.

    A plain DELETE, whose row count tells: the ORM would only warn about a vanished row.
    The object keeps what was read and is never loaded again.
    """
    model = type(record)
    deleted = db.session.execute(
        delete(model).where(model.id == record.id).execution_options(synchronize_session=False)
    )
    db.session.expunge(record)
    return deleted.rowcount == 1


@contextmanager
def commits_keep_what_was_read() -> Iterator[None]:
    """Inside the block, a commit leaves loaded rows as they are instead of expiring them.

    A service that commits a change answers with the rows it changed. Expired, they would
    be read again for the answer, and a delete committed by another request in between
    (PostgreSQL runs it at once) would make that read find nothing: a 500 for a change
    that succeeded. The answer shows the rows as this request committed them.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


class RefererCheckedCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF check, refusing an HTTPS form whose `Referer` is no URL at all as it
    refuses any other foreign one (400).

    Its same-origin check parses the header with `urlparse`, which raises ValueError for an
    unclosed IPv6 bracket (`http://[::1`) or a port past 65535: a 500 instead. The token's
    own check raises no ValueError here: Flask-WTF turns it into a CSRFError first.
    """

    def protect(self, apply_exemptions: bool = False) -> None:
        try:
            super().protect(apply_exemptions=apply_exemptions)
        except ValueError:
            raise CSRFError("The referrer header is not a valid URL.") from None


migrate = Migrate()
csrf = RefererCheckedCSRFProtect()

#: Redis answers in milliseconds: one silent this long is down (a 503), rather than holding
#: a worker for redis-py's own timeout (none at all before redis-py 6). A `socket_timeout`
#: in `REDIS_URL` wins.
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}

#: Methods no limit counts (every route limit is for POSTs, or a password change's PATCH).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RouteLimiter(Limiter):
    """Flask-Limiter with limits on routes only, none app-wide.

    Each limited route checks its limits itself when called; Flask-Limiter's before-request
    check is for app-wide and blueprint limits. The shop has none, and no route limit
    counts reads, so that check is skipped for them: under wrk, `/healthz` went from
    0.59 to 0.69 of the bare-Flask ceiling without it.
    """

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware and request.method in READ_METHODS:
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    @property
    def current_limit(self):
        """The limit the `X-RateLimit-*` and `Retry-After` headers describe: a breached one only.

        On any other answer the per-account login counter would tell whoever types a name
        how many failed logins that account has had, and that its username and its email
        address spend one budget; a 429 tells no more than the refusal itself.
        """
        limit = super().current_limit
        return limit if limit is not None and limit.breached else None


#: How much of an IPv6 address names one visitor: a home or office network gets a /64 (or
#: more), so every address in it is one visitor to the rate limits, as its one IPv4 address is.
IPV6_VISITOR_PREFIX = 64
#: The well-known NAT64 prefix (RFC 6052): its last 32 bits are the IPv4 client's address.
NAT64_NETWORK = IPv6Network("64:ff9b::/96")


def visitor_address() -> str:
    """The address the rate limits count a request against: the client's IPv4 address, or
    the /64 network of its IPv6 address (one host may take any address of its /64)."""
    address = request.remote_addr or "127.0.0.1"
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed in NAT64_NETWORK:  # an IPv4 client reaching an IPv6-only server through NAT64
        return str(IPv4Address(int(parsed) & 0xFFFFFFFF))
    return str(IPv6Network((parsed, IPV6_VISITOR_PREFIX), strict=False))


limiter = RouteLimiter(key_func=visitor_address)
