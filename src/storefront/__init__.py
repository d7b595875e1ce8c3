"""Storefront: a Flask web shop. `create_app()` is the only way to build one."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from . import config as config_module
from .apikit import MAX_ID, UNSAFE_METHODS, JSONProvider, guard_api_request
from .errors import UnreadableBodyIsBadRequest, init_errors
from .extensions import REDIS_TIMEOUTS, csrf, db, limiter, migrate
from .formdata import StrictFormRequest, refuse_repeated_fields
from .openapi import init_openapi
from .proxies import ProxyFixWithCheckedPrefix, refuse_malformed_origin
from .requestlog import RequestLog
from .sessions import current_session_id, init_sessions, raise_session_store_failure
from .testing.client import BufferedClient

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")
#: How long a PostgreSQL connection may take to be set up (`connect_timeout` in the URL wins).
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5
#: How long a SQLite connection waits for another's write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000
#: How long a PostgreSQL statement waits for a lock another transaction holds (a migration,
#: an operator's `LOCK TABLE`) before it gives up as busy, as SQLite's writers do.
POSTGRES_LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
#: What the shop's pages may load: their own styles, scripts and images, nothing framed.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
#: Anything else (JSON, uploaded files, static files) opened as a page runs nothing.
NOTHING_RUNS_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
#: An `X-Request-ID` a proxy may hand on; any other value gets a fresh id instead, so a
#: client cannot write spaces or control characters into the request log.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class IdConverter(IntegerConverter):
    """`<int:...>` for database ids: a number no id column can hold is a 404, whatever the method.

    Werkzeug's own range check makes the rule not match, so a DELETE of a huge id would be
    answered 405 by the rule's GET twin; refusing it here stops routing with a 404 instead.
    A string of more digits than Python converts (4300) raises ValueError: a 404 too. Only
    ASCII digits match (Werkzeug's `\\d` takes any script's, `/products/１` among them).
    """

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise NotFound() from None
        if number > MAX_ID:
            raise NotFound()
        return number


class ShopFlask(APIFlask):
    """APIFlask, with Flask's own report of an exception kept free of live tokens."""

    def log_exception(self, exc_info: Any) -> None:
        """Nothing: the handler of the 500 Flask builds next (`errors._handle_late_failure`)
        logs the failure with its request id, as an outage or a bug. Flask's own report
        would log it twice, naming the request's path, which may hold a live token."""


def create_app(config: Mapping[str, Any] | None = None) -> APIFlask:
    """Build the shop. `config` overrides settings read from the environment."""
    app = ShopFlask(
        __name__,
        title="Storefront API",
        version="1.0",
        json_errors=False,
        instance_path=os.path.abspath(os.environ.get("STOREFRONT_INSTANCE_PATH") or "instance"),
        spec_path="/api/openapi.json",
        docs_path=None,  # apidocs/ serves the docs page, from the shop's origin
        static_folder="pages/static",
    )
    app.url_map.converters["int"] = IdConverter
    app.request_class = StrictFormRequest
    # `/api/products//1` (an id holding an encoded slash, `%2F1`) is an unknown path, a JSON
    # 404: merging the slashes answered it with a redirect, an HTML page on the API.
    app.url_map.merge_slashes = False
    app.test_client_class = BufferedClient
    settings = config_module.build_settings(app.instance_path, config)
    app.config.update(settings)
    app.config.update(
        VALIDATION_ERROR_STATUS_CODE=400,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="storefront_session",
        RATELIMIT_STORAGE_URI=app.config.get("RATELIMIT_STORAGE_URI")
        or _limits_storage(app.config.get("REDIS_URL"))
        or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
    )
    app.json = JSONProvider(app)
    _configure_logging(app)
    app.wsgi_app = RequestLog(app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = UnreadableBodyIsBadRequest(app.wsgi_app)  # type: ignore[method-assign]
    _answer_options_without_a_body(app)
    _trust_proxies(app)
    _init_database(app)
    # First, so that a request has its id, and a failed session store is its answer (503),
    # before the CSRF check and the limiter's hooks run: the CSRF check would read its token
    # from the empty session standing in for the store and call the form expired.
    _register_request_hooks(app)
    csrf.init_app(app)
    init_rate_limits(app)
    init_sessions(app)
    init_errors(app)
    _register_blueprints(app)
    init_openapi(app)
    from .cli import register_commands

    register_commands(app)
    return app


def _configure_logging(app: APIFlask) -> None:
    logging.basicConfig(
        level=app.config["LOG_LEVEL"],
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def _limits_storage(redis_url: str | None) -> str | None:
    """The rate limits' storage in `REDIS_URL`'s Redis: `limits` names a socket's scheme
    `redis+unix://` where redis-py says `unix://`."""
    if redis_url and redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def _answer_options_without_a_body(app: APIFlask) -> None:
    """OPTIONS is a 204 naming the allowed methods (`Allow`), with no body and so no content
    type: Flask's own answer is an empty 200 `text/html`, a page on the JSON API."""
    default = app.make_default_options_response

    def options_response():
        response = default()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response

    app.make_default_options_response = options_response  # type: ignore[method-assign]


def _trust_proxies(app: APIFlask) -> None:
    """Behind `TRUSTED_PROXIES` proxies, read the client's address, scheme and host from
    their `X-Forwarded-*` headers: else every visitor shares the proxy's address and rate
    limits, and the `Origin` check compares a browser's site with the proxy's view of the
    host. Without proxies those headers are ignored, so no client can forge its address.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFixWithCheckedPrefix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )


def warn_before_serving(app: APIFlask) -> None:
    """Say, as the served app starts (in each worker), what would leave it running but
    useless: a database without the schema or not answering (every request a 503) and, in
    production, `make run`'s base URL (dead links in emails) or no SMTP server (mail only
    written to a folder).

    Said by the served app (`storefront.wsgi`), not by every command line tool. The check's
    connection is closed: a process gunicorn forks from (`--preload`) must hold none.
    """
    from .ops import database_problem

    log = logging.getLogger("storefront")
    with app.app_context():
        problem = database_problem()
        db.engine.dispose()
    if problem == "database not migrated":
        log.warning("the database lacks the shop's latest migration: run `storefront init-db`")
    elif problem is not None:
        log.warning(
            "the database does not answer or refuses the connection (check DATABASE_URL): "
            "requests get 503s until it does"
        )
    if not config_module.in_production(app.config):
        return
    if app.config["PUBLIC_BASE_URL"] == config_module.DEFAULT_PUBLIC_BASE_URL:
        log.warning(
            "PUBLIC_BASE_URL is not set: links in emails point at %s",
            config_module.DEFAULT_PUBLIC_BASE_URL,
        )
    if not app.config.get("SMTP_HOST"):
        log.warning(
            "SMTP_HOST is not set: mail is written to %s, not sent",
            app.config["MAIL_OUTBOX_DIR"],
        )


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _lower_every_letter(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys, write-ahead log, wait for locks instead of failing.

    The driver's own transaction handling is switched off (BEGIN is sent by `_sqlite_begin`)
    so that transactions and savepoints behave as SQLAlchemy expects. `lower()` lowers every
    letter, as PostgreSQL's does, not ASCII only, so a search for "CRÈME" finds "crème";
    the indexes on `lower()` hold ASCII usernames and SKUs, which both versions lower alike.
    """
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function("lower", 1, _lower_every_letter, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """Start SQLite transactions explicitly, reads included, as PostgreSQL does.

    A transaction that reads and then writes fails at once with "database is locked" when
    another connection wrote in between, so transactions that may write take the write lock
    up front (BEGIN IMMEDIATE waits for it up to the busy timeout): those of requests with an
    unsafe method, and those asked for with the execution option `sqlite_begin="IMMEDIATE"`
    (see `extensions.begin_write_transaction`). Reads of safe requests stay concurrent.
    """
    if connection.dialect.name == "sqlite":
        mode = connection.get_execution_options().get("sqlite_begin")
        writing = mode == "IMMEDIATE" or (
            has_request_context() and request.method in UNSAFE_METHODS
        )
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _private_sqlite_file(app: APIFlask, uri: str) -> str:
    """`uri`, or for an in-memory SQLite database a new file in a folder removed with the app.

    In memory, SQLite is one connection every thread shares (Flask-SQLAlchemy's StaticPool):
    two requests at once ran inside each other's transactions, and ten buyers racing for the
    last unit got 409s and 503s and no order. A private file keeps what `:memory:` gives a
    test (a fresh, empty database of its own, gone afterwards) with the locking of any file.
    """
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:"):
        return uri
    folder = tempfile.mkdtemp(prefix="storefront-memory-")
    weakref.finalize(app, shutil.rmtree, folder, ignore_errors=True)
    return f"sqlite:///{Path(folder) / 'storefront.db'}"


def _libpq_setting_given(url: URL, parameter: str, variable: str) -> bool:
    """Whether the URL, libpq's environment or a service file may set `parameter`."""
    given_by_url = parameter in url.query or "service" in url.query
    return given_by_url or any(name in os.environ for name in (variable, "PGSERVICE"))


def _postgres_connect_args(url: URL) -> dict[str, Any]:
    """Give up on a server that is silent or a lock that is held, as on a refusal: either
    held a worker until gunicorn killed it (30 s, a 500), and a command forever. What the
    URL, the environment or a service file says wins (`?options=` with nothing behind
    PgBouncer, which takes no startup options)."""
    connect_args: dict[str, Any] = {}
    if not _libpq_setting_given(url, "connect_timeout", "PGCONNECT_TIMEOUT"):
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_SECONDS
    if not _libpq_setting_given(url, "options", "PGOPTIONS"):
        connect_args["options"] = f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT_MS}"
    return connect_args


def _init_database(app: APIFlask) -> None:
    uri = _private_sqlite_file(app, app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    # A database error would otherwise log its statement's values: password hashes, tokens.
    options.setdefault("hide_parameters", True)
    if uri.startswith("postgresql"):
        options.setdefault("pool_pre_ping", True)
        connect_args = _postgres_connect_args(make_url(uri))
        options["connect_args"] = {**connect_args, **options.get("connect_args", {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        # An app let go without closing its pool (a test's) left its connections to the
        # garbage collector, which psycopg reports as a ResourceWarning at some later test.
        weakref.finalize(app, db.engine.dispose)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    # Import every model so the metadata (and Alembic) know all tables.
    from . import models  # noqa: F401


def init_rate_limits(app: APIFlask) -> None:
    """Bind the limiter: Redis when `REDIS_URL` is set, so every server process shares counts.

    The one `limiter` object serves every app in the process and its own on/off switch is
    process-wide, so it is always initialised on; `RATELIMIT_ENABLED` is honoured per app
    by a request filter (accounts/limits.py). Redis keys carry `REDIS_KEY_PREFIX` so that
    several shops (or test runs) on one Redis keep apart and `limiter.reset()` clears only
    its own.
    """
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "redis+unix://")):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "key_prefix": f"{app.config['REDIS_KEY_PREFIX']}-limits",
            **REDIS_TIMEOUTS,
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        }
    enabled = app.config["RATELIMIT_ENABLED"]
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    app.config["RATELIMIT_ENABLED"] = enabled


def _register_blueprints(app: APIFlask) -> None:
    from . import ops
    from .accounts.api import bp as accounts_api
    from .accounts.views import bp as accounts_pages
    from .apidocs.views import bp as api_docs
    from .catalog.api import bp as catalog_api
    from .media.api import bp as media_api
    from .orders.api import bp as orders_api
    from .pages import catalogue, shopping, staff
    from .pages.views import bp as pages
    from .pages.views import static_file

    for api_bp in (accounts_api, catalog_api, orders_api, media_api, ops.bp):
        csrf.exempt(api_bp)
        app.register_blueprint(api_bp)
    for page_bp in (pages, catalogue.bp, shopping.bp, staff.bp, accounts_pages, api_docs):
        app.register_blueprint(page_bp)
    app.view_functions["static"] = static_file  # Flask's own route, this view


def _register_request_hooks(app: APIFlask) -> None:
    from .accounts.limits import LOGIN_FAILED

    @app.before_request
    def start_request() -> None:
        g.pop("current_user", None)  # tests may reuse one app context for many requests
        g.pop("user_session_id", None)
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's cache
        g.pop(LOGIN_FAILED, None)  # else a failed login counted the next right one as failed
        g.request_id = _request_id()
        refuse_malformed_origin()
        raise_session_store_failure()
        guard_api_request()
        refuse_repeated_fields()

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_session_id() is not None:
            # An answer made for a logged-in user is personal: no browser or proxy keeps it
            # (the back button on a shared computer after logout). Files say themselves how
            # to cache them. Not `session`: touching it marks every answer `Vary: Cookie`.
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy",
            PAGE_POLICY if response.mimetype == "text/html" else NOTHING_RUNS_POLICY,
        )
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _request_id() -> str:
    """The request id a trusted proxy sent (cut to 64 characters) if it looks like one, else
    a new one. Without proxies (`TRUSTED_PROXIES`) a client's own is not taken: it could
    give its requests the id of another's logged error."""
    given = request.headers.get("X-Request-ID", "")[:64]
    trusted = current_app.config["TRUSTED_PROXIES"] > 0
    return given if trusted and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
