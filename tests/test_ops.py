"""Health, readiness and the OpenAPI document."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text

import storefront
from storefront import create_app
from storefront.extensions import db


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_ok_with_a_database(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_gone(make_app, tmp_path):
    gone = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    response = make_app(SQLALCHEMY_DATABASE_URI=gone).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert response.headers["Retry-After"] == "1"


def _damage(path, how: str, make_app) -> None:
    """Leave at `path` a file that is no SQLite database, or a migrated one whose pages
    past the first are overwritten (SQLite: "database disk image is malformed")."""
    if how == "no-database":
        path.write_bytes(b"this is no SQLite database, " * 1000)
        return
    shop = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    assert shop.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with shop.app_context():
        db.engine.dispose()
    data = path.read_bytes()
    path.write_bytes(data[:4096] + b"\xab" * (len(data) - 4096))


@pytest.mark.parametrize("how", ["no-database", "malformed"])
def test_a_damaged_database_file_is_unavailable_not_a_bug(make_app, tmp_path, caplog, how):
    """`/readyz` called it unreachable while every request was a 500 logged as a bug: with
    or without a session to look up, and when only saving a new session meets it."""
    damaged = tmp_path / "damaged.db"
    _damage(damaged, how, make_app)
    # As served: a failure past the view reaches the handlers, where tests re-raise it.
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{damaged}", "PROPAGATE_EXCEPTIONS": False}
    client = make_app(**settings).test_client()
    visitor = make_app(**settings).test_client()
    visitor.set_cookie("storefront_session", "a" * 43)  # a session the store must look up

    answers = [client.get("/api/products"), visitor.get("/api/products"), client.get("/login")]

    assert [answer.status_code for answer in answers] == [503, 503, 503]
    assert all("Retry-After" in answer.headers for answer in answers)
    assert client.get("/readyz").status_code == 503
    assert "unhandled error" not in caplog.text


def test_readyz_is_503_when_postgres_is_unreachable(make_app):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    assert make_app(SQLALCHEMY_DATABASE_URI=url).test_client().get("/readyz").status_code == 503


def test_readyz_is_503_until_the_database_has_the_latest_migration(tmp_path):
    shop = create_app({"TESTING": True, "DATABASE": str(tmp_path / "new.db")})
    client = shop.test_client()

    before = client.get("/readyz")
    assert shop.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    after = client.get("/readyz")

    assert before.status_code == 503
    assert before.get_json() == {"status": "unavailable", "error": "database not migrated"}
    assert after.status_code == 200


def test_readyz_is_ready_on_a_database_a_later_release_migrated_already(tmp_path):
    """A rolling deploy migrates first: the instances still running stay in service."""
    shop = create_app({"TESTING": True, "DATABASE": str(tmp_path / "shop.db")})
    assert shop.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    client = shop.test_client()

    def stamp(revision: str) -> int:
        with shop.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
            db.session.commit()
        return client.get("/readyz").status_code

    assert stamp("9999_from_a_later_release") == 200
    assert stamp("0011_sqlite_ids") == 503  # one this code knows, and older than its latest


def _probe_silent_postgres(settings: dict) -> list:
    """`/readyz` against a server that takes the connection and says nothing."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        url = f"postgresql://u@127.0.0.1:{port}/x"
        shop = create_app({"TESTING": True, "DATABASE_URL": url, **settings})
        answers: list = []
        probe = threading.Thread(target=lambda: answers.append(shop.test_client().get("/readyz")))
        probe.start()
        probe.join(timeout=30)
    return answers


def test_libpqs_own_connect_timeout_setting_is_kept(monkeypatch):
    """PGCONNECT_TIMEOUT in the environment, as libpq reads it, wins over the shop's 5 s."""
    monkeypatch.setattr(storefront, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 3600)
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "2")

    assert [answer.status_code for answer in _probe_silent_postgres({})] == [503]


def test_a_postgres_server_that_never_answers_is_unreachable_not_a_hung_worker(monkeypatch):
    """A black hole: it takes the connection and says nothing."""
    monkeypatch.setattr(storefront, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 2)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)

    answers = _probe_silent_postgres({})

    assert [answer.status_code for answer in answers] == [503]
    assert answers[0].get_json()["error"] == "database unreachable"


@pytest.fixture
def locked_postgres_table(database_url, monkeypatch):
    """`lock(table)`: hold an exclusive lock on a table of the PostgreSQL test database, as a
    migration or an operator's `LOCK TABLE` would, for the `with` block, and 10 s at most
    (a shop that waited for it then fails its test instead of hanging it); the shop waits
    0.3 s for it (5 s in use)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL table lock")
    monkeypatch.setattr(storefront, "POSTGRES_LOCK_TIMEOUT_MS", 300)
    engine = create_engine(database_url)

    @contextmanager
    def lock(table: str):
        locked, release = threading.Event(), threading.Event()

        def hold() -> None:
            with engine.connect() as holder:
                holder.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                release.wait(timeout=10)

        holder = threading.Thread(target=hold)
        holder.start()
        assert locked.wait(timeout=10)
        try:
            yield
        finally:
            release.set()
            holder.join()

    yield lock
    engine.dispose()


def test_a_table_locked_past_the_wait_is_a_503_not_a_hung_worker(make_app, locked_postgres_table):
    shop = make_app()

    with locked_postgres_table("products"):
        response = shop.test_client().get("/api/products")

    assert response.status_code == 503
    assert (
        response.get_json()["error"] == "The shop is busy right now; please try again in a moment."
    )
    assert "Retry-After" in response.headers
    assert shop.test_client().get("/api/products").status_code == 200


def test_a_command_meeting_a_locked_table_says_the_database_is_busy(
    make_app, locked_postgres_table
):
    runner = make_app().test_cli_runner()
    new_user = ["create-user", "lockwait", "lockwait@example.com", "--password", "quiet-harbour-71"]

    with locked_postgres_table("users"):
        result = runner.invoke(args=new_user)

    assert result.exit_code == 1
    assert "the database is busy" in result.output


@pytest.mark.parametrize(
    ("given_by", "expected"),
    [
        (None, "5s"),
        ("url", "1234ms"),
        ("PGOPTIONS", "1234ms"),
        ("engine options", "1234ms"),
        ("PGSERVICE", "0"),  # the service file names no options: PostgreSQL's own default
        ("service in the url", "0"),
    ],
)
def test_postgres_lock_wait_is_five_seconds_unless_the_operator_sets_it(
    make_app, database_url, tmp_path, monkeypatch, given_by, expected
):
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL setting")
    monkeypatch.delenv("PGOPTIONS", raising=False)
    monkeypatch.delenv("PGSERVICE", raising=False)
    url, settings, options = make_url(database_url), {}, "-c lock_timeout=1234"
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[shop]\nhost={url.host}\nport={url.port or 5432}\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    if given_by == "url":
        url = url.update_query_dict({"options": options})
    elif given_by == "PGOPTIONS":
        monkeypatch.setenv("PGOPTIONS", options)
    elif given_by == "engine options":
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": options}}
    elif given_by == "PGSERVICE":
        monkeypatch.setenv("PGSERVICE", "shop")
    elif given_by == "service in the url":
        url = url.update_query_dict({"service": "shop"})
    shop = make_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False), **settings)

    with shop.app_context():
        assert db.session.scalar(text("SHOW lock_timeout")) == expected


def test_readyz_is_503_when_the_session_redis_is_unreachable(make_app, dead_redis_url):
    shop = make_app(REDIS_URL=dead_redis_url)
    response = shop.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "error": "redis unreachable"}
    assert response.headers["Retry-After"] == "1"


def test_readyz_ok_with_redis(make_app, redis_url):
    assert make_app(REDIS_URL=redis_url).test_client().get("/readyz").status_code == 200
