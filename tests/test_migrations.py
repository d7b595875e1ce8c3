"""Migrations are the only source of the schema: they build it and take it down again."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from storefront.extensions import db
from storefront.testing.plugin import make_database_url


def test_upgrade_then_downgrade_on_an_empty_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "migrations"))
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="heads")
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


#: SQLite cannot reflect an index on an expression (users' lower(username)), so there that
#: one index is skipped with these warnings; PostgreSQL reflects and compares it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_models_and_migrations_agree(make_app, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "drift"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_foreign_keys_hold_after_init_db(make_app, tmp_path):
    """SQLite migrates with foreign keys off (a rebuilt table's drop would cascade): the
    connection init-db used goes back to the pool with them on again."""
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "keys"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0  # up to date: reads, changes nothing
    password = "a-long-passphrase-9"
    runner.invoke(args=["create-user", "keeper", "keeper@example.com", "--password", password])
    client = app.test_client()
    client.post("/api/login", json={"username": "keeper", "password": password})
    upload = {"file": (io.BytesIO(b"kept for now"), "note.txt", "text/plain")}
    client.post("/api/upload", data=upload, content_type="multipart/form-data")
    me = client.get("/api/me").get_json()["id"]

    assert client.delete(f"/api/users/{me}").status_code == 204

    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM files")) == 0
        db.session.remove()
        db.engine.dispose()


def test_init_db_keeps_the_database_as_it_was_when_references_would_dangle(make_app, tmp_path):
    """SQLite migrates with foreign keys off; a migration after which a row points at
    nothing is undone and named, not committed and then reported on every later run."""
    url = make_database_url(tmp_path, "dangling")
    if not url.startswith("sqlite"):
        pytest.skip("foreign keys are switched off for SQLite migrations only")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="0010_sku_case")
        with db.engine.connect() as connection:
            driver = connection.connection.driver_connection
            driver.execute("PRAGMA foreign_keys=OFF")
            driver.execute(
                "INSERT INTO user_sessions (user_id, sid_hash, user_agent, created_at, "
                "last_seen_at) VALUES (999, 'x', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
            driver.execute("PRAGMA foreign_keys=ON")
        db.engine.dispose()

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 1
    assert "0011_sqlite_ids would leave rows pointing at nothing" in result.output
    with app.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == (
            "0010_sku_case"
        )
        users = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'users'"))
        assert "AUTOINCREMENT" not in users
        db.session.remove()
        db.engine.dispose()


def _init_db_over_rows(app, revision: str, insert: str, rows: list[dict]) -> Any:
    """Migrate to `revision`, insert `rows` with the `insert` statement, then run init-db."""
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision=revision)
        with db.engine.begin() as connection:
            for row in rows:
                connection.execute(text(insert), row)
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["init-db"])
    with app.app_context():
        db.engine.dispose()
    return result


def test_init_db_refuses_usernames_that_differ_only_in_case(make_app, tmp_path):
    """The unique index on lower(username) cannot be built over such names; the operator
    is told which ones to rename instead of getting a bare integrity error."""
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "case"))
    result = _init_db_over_rows(
        app,
        "0007_catalog_indexes",
        "INSERT INTO users (username, email, password_hash, role, confirmed, created_at, "
        "updated_at) VALUES (:name, :email, 'x', 'customer', false, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)",
        [
            {"name": name, "email": f"user{number}@example.com"}
            for number, name in enumerate(("erin", "Erin", "zoe"))
        ],
    )

    assert result.exit_code == 1
    assert "differ only in case must be renamed before this upgrade: Erin, erin\n" in (
        result.output
    )


def test_init_db_refuses_skus_that_differ_only_in_case(make_app, tmp_path):
    """As for usernames: the operator is told which SKUs to change before the upgrade."""
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "sku_case"))
    result = _init_db_over_rows(
        app,
        "0009_search_statistics",
        "INSERT INTO products (sku, name, description, price_cents, currency, stock, active, "
        "created_at, updated_at) VALUES (:sku, 'x', '', 1, 'EUR', 0, true, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)",
        [{"sku": sku} for sku in ("mug-1", "MUG-1", "cup-1")],
    )

    assert result.exit_code == 1
    assert "differ only in case must be changed before this upgrade: MUG-1, mug-1\n" in (
        result.output
    )
