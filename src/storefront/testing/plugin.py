"""Storefront's pytest plugin: the fixtures the suite (and anyone forking the shop) builds on.

Load it with `pytest_plugins = ["storefront.testing.plugin"]` in a `conftest.py`.

The database comes from `TEST_DATABASE_URL` (a PostgreSQL URL) or, by default, a SQLite
file in a temporary folder. Its schema is made once per run by applying the migrations;
each test then runs inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import event, make_url
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from storefront import create_app, init_rate_limits
from storefront.catalog.service import forget_kept_counts
from storefront.extensions import db as _db
from storefront.extensions import limiter

from .client import BufferedClient
from .factories import ProductFactory, UserFactory
from .mail import MailOutbox, SmtpServer

TEST_SECRET_KEY = "storefront-test-secret-key-not-for-production"  # noqa: S105
_CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
_ISOLATION_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def _database_name(label: str) -> str:
    """A database name unique to this checkout's run and xdist worker."""
    prefix = os.environ.get("STOREFRONT_TEST_DB_PREFIX", "storefront")
    return f"{prefix}_{label}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _fresh_postgres_database(base_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `base_url`; return its URL."""
    import psycopg

    url = make_url(base_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def make_database_url(tmp_dir: Path, label: str) -> str:
    """A new, empty database for this test run: PostgreSQL if `TEST_DATABASE_URL` says so."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith("postgres"):
        base = base.replace("postgresql://", "postgresql+psycopg://", 1)
        return _fresh_postgres_database(base, _database_name(label))
    return f"sqlite:///{tmp_dir / f'{label}.db'}"


def testing_config(database_url: str, upload_folder: Path, **overrides: Any) -> dict[str, Any]:
    """Settings of a test app: cheap password hashing, a fixed secret, its own uploads.

    Mail goes to an outbox folder beside the uploads unless a test uses `mail_outbox`, and
    rate limits are off: a test of a limit switches them on with
    `monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)`.
    """
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(upload_folder),
        "MAIL_OUTBOX_DIR": str(upload_folder.parent / "outbox"),
        "SMTP_HOST": None,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        **overrides,
    }


def migrate_database(app: Flask) -> None:
    """Bring the app's database to the newest schema by running the migrations."""
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the run's test database, migrated once by the `app` fixture."""
    return make_database_url(tmp_path_factory.mktemp("db"), "test")


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The shop app shared by the run, on the migrated test database.

    Change settings for one test with `monkeypatch.setitem(app.config, KEY, value)`,
    or build a separate app with `make_app`.
    """
    application = create_app(testing_config(database_url, tmp_path_factory.mktemp("uploads")))
    migrate_database(application)
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture
def make_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build another app on the same (already migrated) database with extra settings.

    Each app's connections are closed after the test. The rate limiter is one object per
    process and follows the last app built, so afterwards it is bound back to the
    session's `app` (with fresh, empty counters).
    """
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = create_app(testing_config(database_url, tmp_path / "uploads", **overrides))
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            _db.engine.dispose()
    init_rate_limits(app)


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session, but always on the test's connection.

    Flask-SQLAlchemy picks an engine per model, which would step around the outer
    transaction; here every statement goes through the connection the test rolls back.
    """

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.bind


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The Flask-SQLAlchemy object, with every change of the test rolled back afterwards.

    The ORM session is bound to one connection inside an outer transaction; the app's own
    commits only release savepoints, so the test sees them and the next test does not, nor
    the catalogue totals the app kept from them.
    """
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original_session = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
            }
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original_session
            outer.rollback()
            connection.close()
            forget_kept_counts()


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    """A test client for `app` on the rolled-back database, with fresh rate-limit counters."""
    limiter.reset()
    return BufferedClient(app, app.response_class, use_cookies=True)


def login_as(client: FlaskClient, user: Any) -> None:
    """Log `user` in on `client` by writing `session["user_id"]`, as the tutorial does."""
    with client.session_transaction() as session:
        session["user_id"] = user.id


@pytest.fixture(name="login_as")
def login_as_fixture() -> Callable[[FlaskClient, Any], None]:
    """`login_as(client, user)`: log a user in without going through `/api/login`."""
    return login_as


@pytest.fixture
def user_factory(db: Any) -> type[UserFactory]:
    """factory_boy factory of confirmed users; `user.password` holds the plain password."""
    return UserFactory


@pytest.fixture
def product_factory(db: Any) -> type[ProductFactory]:
    """factory_boy factory of active products (10 in stock, 1000 cents EUR unless told)."""
    return ProductFactory


@pytest.fixture
def user(user_factory: type[UserFactory]) -> Any:
    """A confirmed customer."""
    return user_factory()


@pytest.fixture
def staff(user_factory: type[UserFactory]) -> Any:
    """A confirmed staff member."""
    return user_factory(role="staff")


@pytest.fixture
def admin(user_factory: type[UserFactory]) -> Any:
    """A confirmed admin."""
    return user_factory(role="admin")


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on the page at `url` (fetched with `client`)."""
    response = client.get(url)
    match = _CSRF_INPUT.search(response.get_data(as_text=True))
    if match is None:
        raise AssertionError(f"no csrf_token field on {url} (status {response.status_code})")
    return match.group(1) or match.group(2)


@pytest.fixture(name="csrf_token")
def csrf_token_fixture() -> Callable[[FlaskClient, str], str]:
    """`csrf_token(client, url)`: read the CSRF token of the form at `url`."""
    return csrf_token


@dataclass
class QueryLog:
    """SQL statements seen inside an `assert_max_queries` block."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries(engine: Any) -> Iterator[QueryLog]:
    """Record the SQL statements `engine` runs in the block (test savepoints excluded)."""
    log = QueryLog()

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_ISOLATION_STATEMENTS):
            log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def assert_max_queries(app: Flask, db: Any) -> Callable[[int], Any]:
    """`with assert_max_queries(n): ...` fails if the block runs more than `n` statements."""

    @contextmanager
    def check(limit: int) -> Iterator[QueryLog]:
        with app.app_context(), count_queries(_db.engine) as log:
            yield log
        if len(log) > limit:
            listing = "\n".join(f"  {i + 1}. {s}" for i, s in enumerate(log.statements))
            raise AssertionError(f"{len(log)} SQL statements, expected at most {limit}:\n{listing}")

    return check


class LiveServer:
    """A real threaded HTTP server running the app on a free 127.0.0.1 port.

    With `mount="/shop"` the app is served under that path, as a WSGI server mounting it
    there does (`SCRIPT_NAME`); every other path is a 404, and `url` ends with the path.
    """

    def __init__(self, app: Flask, mount: str = "") -> None:
        self.app = app
        served = DispatcherMiddleware(NotFound(), {mount: app}) if mount else app
        self._server = make_server("127.0.0.1", 0, served, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}{mount}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def clear_data(self) -> None:
        """Delete every row so each test starts from an empty, committed database."""
        with self.app.app_context():
            with _db.engine.begin() as conn:
                for table in reversed(_db.metadata.sorted_tables):
                    conn.execute(table.delete())
            limiter.reset()


@pytest.fixture(scope="session")
def _live_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    live_app = create_app(
        testing_config(make_database_url(tmp, "live"), tmp / "uploads", SESSION_COOKIE_SECURE=False)
    )
    migrate_database(live_app)
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()
    with live_app.app_context():
        _db.engine.dispose()


@pytest.fixture
def live_server(_live_server_session: LiveServer) -> LiveServer:
    """The shop served over real HTTP with its own committed database, emptied per test.

    `live_server.url` is the base URL; `live_server.app` the app behind it.
    """
    _live_server_session.clear_data()
    return _live_server_session


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis server for tests of the Redis-backed features (`TEST_REDIS_URL`,
    default `redis://127.0.0.1:6379/0`); fails loudly when it does not answer.

    Tests share it with other runs: use unique key prefixes, never flush it.
    """
    from redis import Redis
    from redis.exceptions import RedisError

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError as error:
        pytest.fail(f"Redis at {url} does not answer ({error}); start it (see .ci/run)")
    return url


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free 127.0.0.1 port, shared by the run."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_outbox(
    app: Flask, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MailOutbox]:
    """The mail the shop sends during this test, as received by a real SMTP server.

    `app` is pointed at `smtp_server` for the test. `mail_outbox.messages` waits for mail
    still being delivered in the background, then lists the received `EmailMessage`s;
    `last_to(address)` and `link_in(message, "/confirm/")` pick out a mail and its link;
    `stop()` / `start()` take the server down and back up on the same port; pass
    `mail_outbox.settings` to `make_app(...)` to point another app at it.
    """
    outbox = MailOutbox(smtp_server)
    for key, value in outbox.settings.items():
        monkeypatch.setitem(app.config, key, value)
    yield outbox
    outbox.close()


@pytest.fixture
def run_cli(app: Flask, db: Any) -> Callable[..., Any]:
    """`run_cli("create-user", ...)`: invoke a `storefront` command on the test database."""
    runner = app.test_cli_runner()

    def invoke(*args: str, **kwargs: Any) -> Any:
        return runner.invoke(args=list(args), **kwargs)

    return invoke


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser test in real Chromium")


__all__ = ["LiveServer", "count_queries", "csrf_token", "login_as", "testing_config"]
