"""The `storefront` command line, driven through the Flask CLI runner."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import sqlite3
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

import storefront
from storefront import create_app
from storefront.accounts.models import User
from storefront.cli import main
from storefront.extensions import db
from storefront.testing.plugin import make_database_url


def test_create_user_makes_a_confirmed_user_who_can_log_in(run_cli, client):
    result = run_cli(
        "create-user",
        "dora",
        "dora@example.com",
        "--password",
        "a-long-password!",
        "--role",
        "staff",
    )
    assert result.exit_code == 0, result.output
    assert "dora" in result.output
    login = client.post("/api/login", json={"username": "dora", "password": "a-long-password!"})
    assert login.status_code == 200
    assert login.get_json()["user"]["role"] == "staff"
    assert login.get_json()["user"]["confirmed"] is True


def test_create_user_takes_username_and_email_as_options_too(run_cli, client):
    result = run_cli(
        "create-user", "--username", "fay", "--email", "fay@example.com", "--password", "x" * 12
    )
    assert result.exit_code == 0, result.output
    login = client.post("/api/login", json={"username": "fay@example.com", "password": "x" * 12})
    assert login.get_json()["user"]["username"] == "fay"


@pytest.mark.parametrize(
    "given", [("--username", "hal", "hal@example.com"), ("hal", "--email", "hal@example.com")]
)
def test_create_user_takes_one_of_the_two_as_an_option(run_cli, db, given):
    result = run_cli("create-user", *given, "--password", "x" * 12)

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.email).where(User.username == "hal")) == (
        "hal@example.com"
    )


def test_create_user_without_a_name_or_with_two_names_is_a_usage_error(run_cli, db):
    missing = run_cli("create-user", "--email", "gil@example.com", "--password", "x" * 12)
    assert missing.exit_code == 2
    assert "username" in missing.output
    twice = run_cli(
        "create-user", "gil", "gil@example.com", "--username", "gus", "--password", "x" * 12
    )
    assert twice.exit_code == 2
    assert "given twice" in twice.output
    assert db.session.scalar(select(User).where(User.email == "gil@example.com")) is None


def test_create_user_asks_for_the_password_once_the_rest_is_complete(run_cli, client):
    incomplete = run_cli("create-user", "--email", "hal@example.com", input="x" * 12 + "\n")
    assert incomplete.exit_code == 2
    assert "Password" not in incomplete.output

    typed = "y" * 12 + "\n"
    result = run_cli("create-user", "hal", "hal@example.com", input=typed + typed)
    assert result.exit_code == 0, result.output
    login = client.post("/api/login", json={"username": "hal", "password": "y" * 12})
    assert login.status_code == 200


def test_create_user_checks_the_name_and_email_before_asking_for_a_password(run_cli):
    result = run_cli("create-user", "hal", "not-an-email", input="")  # none to read, yet

    assert result.exit_code == 1
    assert result.output.startswith("Error: email:")
    assert "Password" not in result.output


def test_create_user_takes_a_piped_password_and_says_when_there_is_none(run_cli, client):
    """With no terminal to ask on, the first line of the input is the password."""
    nothing = run_cli("create-user", "ivy", "ivy@example.com", input="")
    assert nothing.exit_code == 1
    assert nothing.output.startswith("Error: no password: give --password, pipe it in")

    piped = run_cli("create-user", "ivy", "ivy@example.com", input="quiet-lantern-42\n")
    assert piped.exit_code == 0, piped.output
    login = client.post("/api/login", json={"username": "ivy", "password": "quiet-lantern-42"})
    assert login.status_code == 200


def test_create_user_takes_a_password_piped_from_a_windows_file(tmp_path, monkeypatch):
    """A real pipe keeps the line's CRLF (the test runner's input does not): the password
    is what comes before it, not with a `\\r` no one can type."""
    database = f"sqlite:///{tmp_path / 'piped.db'}"
    shop = create_app({"TESTING": True, "DATABASE_URL": database})
    assert shop.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    command = "from storefront.cli import main; main()"
    monkeypatch.setenv("STOREFRONT_ENV", "development")
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", database)

    created = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", command, "create-user", "joy", "joy@example.com"],
        input=b"quiet-lantern-43\r\n",
        capture_output=True,
        timeout=60,
    )

    assert created.returncode == 0, created.stderr
    login = {"username": "joy", "password": "quiet-lantern-43"}
    assert shop.test_client().post("/api/login", json=login).status_code == 200
    with shop.app_context():
        db.engine.dispose()


def test_create_user_duplicate_exits_1(run_cli, user):
    result = run_cli("create-user", user.username, "other@example.com", "--password", "x" * 12)
    assert result.exit_code == 1
    assert "taken" in result.output


def test_create_user_bad_input_exits_1(run_cli, db):
    bad_email = run_cli("create-user", "eve", "not-an-email", "--password", "x" * 12)
    assert bad_email.exit_code == 1
    assert "email" in bad_email.output
    bad_role = run_cli(
        "create-user", "eve", "eve@example.com", "--password", "x" * 12, "--role", "root"
    )
    assert bad_role.exit_code == 1
    assert "role" in bad_role.output
    nul = run_cli("create-user", "eve", "eve@example.com", "--password", "x" * 11 + "\x00")
    assert nul.exit_code == 1
    assert nul.output.startswith("Error: password: must not contain NUL")
    empty = run_cli("create-user", "eve", "eve@example.com", "--password", "")
    assert empty.output == "Error: password: must not be empty\n"
    short = run_cli("create-user", "eve", "eve@example.com", "--password", "short")
    assert short.output == "Error: password: must be at least 10 characters long\n"
    assert db.session.scalar(select(User).where(User.username == "eve")) is None


def test_init_db_builds_the_schema_on_an_empty_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.db'}")
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database" in result.output  # as Flask's tutorial says it
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"users", "sessions", "files", "contact_messages"} <= tables


def test_init_db_in_the_test_process_leaves_the_apps_log_alone(make_app, tmp_path, caplog):
    """Flask's tutorial runs `init-db` through `app.test_cli_runner()`: in the test's own
    process. The app's log (one line per request, its errors) still reaches `caplog` after."""
    caplog.set_level(logging.INFO)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'logged.db'}")
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("a bug")

    listed = app.test_client().get("/api/products")
    failed = app.test_client().get("/api/boom")
    with app.app_context():
        db.engine.dispose()
    assert (listed.status_code, failed.status_code) == (200, 500)
    assert f"request_id={listed.headers['X-Request-ID']} GET /api/products 200" in caplog.text
    assert f"unhandled error (request_id={failed.headers['X-Request-ID']})" in caplog.text
    assert logging.getLogger().level == logging.INFO  # as the test set it


@pytest.fixture
def cli_app(make_app, tmp_path):
    """An app on a fresh database of its own, built by `init-db`, and its CLI runner."""
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "cli"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    yield app, runner
    with app.app_context():
        db.engine.dispose()


def _add_user(runner, name: str):
    return runner.invoke(
        args=["create-user", name, f"{name}@example.com", "--password", "a-long-password!"]
    )


def test_init_db_again_keeps_the_data_and_drop_starts_afresh(cli_app):
    _, runner = cli_app
    assert _add_user(runner, "kim").exit_code == 0

    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0, again.output
    assert _add_user(runner, "kim").exit_code == 1  # still there: taken

    dropped = runner.invoke(args=["init-db", "--drop"])
    assert dropped.exit_code == 0, dropped.output
    assert _add_user(runner, "kim").exit_code == 0


def test_init_db_rebuilds_tables_dropped_behind_alembics_back(cli_app):
    app, runner = cli_app
    with app.app_context():
        db.drop_all()

    rebuilt = runner.invoke(args=["init-db"])

    assert rebuilt.exit_code == 0, rebuilt.output
    assert _add_user(runner, "lee").exit_code == 0


def test_init_db_refuses_a_database_missing_only_some_tables(cli_app):
    app, runner = cli_app
    with app.app_context():
        db.metadata.tables["contact_messages"].drop(db.engine)

    refused = runner.invoke(args=["init-db"])

    assert refused.exit_code == 1
    assert "contact_messages" in refused.output and "--drop" in refused.output
    assert runner.invoke(args=["init-db", "--drop"]).exit_code == 0


def test_init_db_on_a_database_a_newer_release_migrated_says_so(cli_app):
    app, runner = cli_app
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '0099_from_later'"))
        db.session.commit()

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: the database is at migration 0099_from_later, which this release does not "
        "know: a newer release of the shop migrated it (run that release), or it is "
        "another app's database (give the shop one of its own)\n"
    )


def test_init_db_leaves_another_apps_alembic_record_alone(make_app, tmp_path):
    """With none of the shop's tables beside it, it passed for a schema dropped behind
    Alembic's back, and was rebuilt as the shop's: the other app lost its record."""
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "other_alembic"))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('deadbeef')"))
            connection.execute(text("CREATE TABLE other_app_data (x INTEGER)"))

        refused = app.test_cli_runner().invoke(args=["init-db"])

        assert refused.exit_code == 1
        assert "at migration deadbeef, which this release does not know" in refused.output
        kept = db.session.scalars(text("SELECT version_num FROM alembic_version")).all()
        assert kept == ["deadbeef"]
        db.session.remove()
        db.engine.dispose()


def test_init_db_refuses_another_apps_tables_of_the_shops_names_and_writes_nothing(
    make_app, tmp_path
):
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "foreign"))
    runner = app.test_cli_runner()
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE products (title VARCHAR(80))"))
            connection.execute(text("INSERT INTO products VALUES ('their row')"))

        refused = runner.invoke(args=["init-db"])

        assert refused.exit_code == 1
        assert "tables this shop's migrations did not make (products)" in refused.output
        assert "init-db --drop" in refused.output
        assert inspect(db.engine).get_table_names() == ["products"]
        assert runner.invoke(args=["init-db", "--drop"]).exit_code == 0
        assert "alembic_version" in inspect(db.engine).get_table_names()
        db.engine.dispose()


@pytest.mark.parametrize("revision", ["0001", "0005_accounts", "0010_sku_case"])
def test_init_db_upgrades_a_database_at_an_older_migration_and_keeps_its_data(
    make_app, tmp_path, revision
):
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "older"))
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision=revision)
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO users"
                " (username, email, password_hash, role, confirmed, created_at, updated_at)"
                " VALUES ('kept', 'kept@example.com', 'x', 'customer', true, :at, :at)"
            ),
            {"at": "2026-11-01 10:00:00"},
        )
        db.session.commit()

    upgraded = runner.invoke(args=["init-db"])

    assert upgraded.exit_code == 0, upgraded.output
    assert _add_user(runner, "kept").exit_code == 1  # still there: taken
    assert _add_user(runner, "new").exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_init_db_after_undoing_migrations_applies_them_again(cli_app):
    app, runner = cli_app
    assert _add_user(runner, "kim").exit_code == 0
    with app.app_context():
        downgrade(directory=app.extensions["migrate"].directory, revision="0006_orders")

    again = runner.invoke(args=["init-db"])

    assert again.exit_code == 0, again.output
    assert _add_user(runner, "kim").exit_code == 1
    assert _add_user(runner, "lee").exit_code == 0


@pytest.mark.parametrize(
    "command",
    [
        ["create-user", "ida", "ida@example.com", "--password", "a-long-password!"],
        ["sessions-cleanup"],
        ["media", "check"],
    ],
)
def test_a_command_before_init_db_says_what_to_do(make_app, tmp_path, command):
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "empty"))
    result = app.test_cli_runner().invoke(args=command)
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert "run `storefront init-db`" in result.output
    assert "Traceback" not in result.output


def test_init_db_on_an_unreachable_server_is_one_line(make_app):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    result = make_app(SQLALCHEMY_DATABASE_URI=url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database is not reachable")
    assert "Connection refused" in result.output


def test_flask_migrates_commands_on_an_unreachable_server_are_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("STOREFRONT_ENV", "development")
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")

    result = CliRunner().invoke(main, ["db", "current"])

    assert result.exit_code == 1
    assert result.output.startswith("Error: the database is not reachable")
    assert "Traceback" not in result.output


def test_init_db_on_a_database_never_created_says_to_create_it(make_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server's answer: SQLite creates its file")
    url = make_url(database_url).set(database="storefront_never_created")
    app = make_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False))

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 1
    assert "create it first (`createdb storefront_never_created`)" in result.output


def test_a_settings_problem_is_one_line(monkeypatch):
    monkeypatch.setenv("STOREFRONT_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: SECRET_KEY is missing")


def test_help_lists_the_commands_despite_a_settings_problem(monkeypatch):
    """A newcomer's first `storefront --help`, before any setting: the problem, then the list."""
    monkeypatch.setenv("STOREFRONT_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Error: SECRET_KEY is missing" in result.output
    assert "Traceback" not in result.output
    for command in ("init-db", "create-user", "demo", "serve", "sessions-cleanup", "media"):
        assert f"\n  {command} " in result.output, command


def test_version_is_the_shops_and_no_other_app_can_be_named():
    """`--version` printed Flask's, and `-A other.app` was listed, taken and ignored."""
    version = CliRunner().invoke(main, ["--version"])
    assert version.exit_code == 0
    assert version.output == f"Storefront {importlib.metadata.version('storefront')}\n"

    other_app = CliRunner().invoke(main, ["-A", "other.module", "init-db"])
    assert other_app.exit_code == 2
    assert "No such option '-A'" in other_app.output


def test_settings_can_come_from_a_file_named_with_e(monkeypatch, tmp_path):
    settings = {
        "STOREFRONT_ENV": "development",
        "STOREFRONT_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'from-the-file.db'}",
    }
    for name in (*settings, "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)  # and the file's are removed afterwards
    env_file = tmp_path / "shop.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))

    result = CliRunner().invoke(main, ["-e", str(env_file), "init-db"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-the-file.db").exists()


def test_serve_runs_the_gunicorn_beside_its_own_python(run_cli, monkeypatch, tmp_path):
    """`.venv/bin/storefront serve` with another environment's gunicorn first on PATH (an
    activated venv) ran that one, which imports another `storefront`, or none."""
    import os
    import sys

    elsewhere = tmp_path / "other-venv" / "bin"
    elsewhere.mkdir(parents=True)
    (elsewhere / "gunicorn").write_text("#!/bin/sh\nexit 1\n")
    (elsewhere / "gunicorn").chmod(0o755)
    monkeypatch.setenv("PATH", f"{elsewhere}{os.pathsep}{os.environ['PATH']}")
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append((path, args)))

    result = run_cli("serve", "--port", "5650", "--workers", "3")

    assert result.exit_code == 0, result.output
    own = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    assert started == [
        (
            own,
            [
                *(own, "--bind", "127.0.0.1:5650", "--workers", "3"),
                *("--config", "python:storefront.gunicorn_conf", "storefront.wsgi:app"),
            ],
        )
    ]


def test_the_gunicorn_settings_turn_the_control_socket_off(tmp_path):
    """Else every gunicorn of the user shares `~/.gunicorn/gunicorn.ctl`, which the shop
    never uses (the README's plain gunicorn line made it)."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    conf = ["-c", "python:storefront.gunicorn_conf", "storefront.wsgi:app"]

    printed = subprocess.run(  # noqa: S603 - our own venv's gunicorn
        [gunicorn, "--print-config", *conf],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )

    assert re.search(r"^control_socket_disable\s*=\s*True$", printed.stdout, re.MULTILINE)


def test_serve_with_a_settings_problem_is_one_line_before_any_worker_starts(monkeypatch):
    import os

    monkeypatch.setenv("STOREFRONT_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append(path))

    result = CliRunner().invoke(main, ["serve"])

    assert result.exit_code == 1
    assert result.output.startswith("Error: SECRET_KEY is missing")
    assert started == []


@pytest.mark.parametrize(
    "args", [["--port", "-1"], ["--port", "99999"], ["--workers", "0"]], ids=str
)
@pytest.mark.parametrize("command", ["serve", "demo"])
def test_serve_and_demo_refuse_a_port_or_worker_count_that_cannot_work(run_cli, command, args):
    """`--workers 0` listened, with no worker to answer: every request hung."""
    result = run_cli(command, *args)

    assert result.exit_code == 2
    assert "is not in the range" in result.output


@pytest.mark.parametrize("command", [["init-db"], ["demo", "--no-serve"], ["media", "check"]])
def test_a_file_that_is_no_database_is_one_line(make_app, tmp_path, command):
    not_a_database = tmp_path / "garbage.db"
    not_a_database.write_text("garbage\n" * 100)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{not_a_database}")

    result = app.test_cli_runner().invoke(args=command)

    assert result.exit_code == 1
    assert result.output.startswith("Error: the database is not reachable or not set up")
    assert "file is not a database" in result.output


def test_demo_prints_only_the_demo_logins_that_still_work(cli_app):
    app, runner = cli_app
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "customer   demo-customer-password" in first.output
    client = app.test_client()
    login = {"username": "customer", "password": "demo-customer-password"}
    assert client.post("/api/login", json=login).status_code == 200
    change = {"password": "my-own-secret-phrase", "current_password": login["password"]}
    me = client.get("/api/me").get_json()["id"]
    assert client.patch(f"/api/users/{me}", json=change).status_code == 200

    again = runner.invoke(args=["demo", "--no-serve"])

    assert again.exit_code == 0, again.output
    assert "demo-customer-password" not in again.output
    assert "staff      demo-staff-password" in again.output
    assert "have other passwords, or their emails are taken" in again.output


def test_demo_leaves_out_a_demo_login_whose_name_or_email_a_user_already_has(cli_app):
    app, runner = cli_app
    runner.invoke(args=["init-db"])
    for name, email in (("Admin", "someone@example.com"), ("shop-staff", "staff@example.com")):
        created = runner.invoke(args=["create-user", name, email, "--password", "a-long-password"])
        assert created.exit_code == 0, created.output

    result = runner.invoke(args=["demo", "--no-serve"])

    assert result.exit_code == 0, result.output
    assert "customer   demo-customer-password" in result.output
    assert "demo-admin-password" not in result.output
    assert "demo-staff-password" not in result.output
    products = app.test_client().get("/api/products").headers["X-Total-Count"]
    assert int(products) > 0


@pytest.fixture
def production_shop(monkeypatch, tmp_path):
    """A shop in production (not TESTING) on a SQLite file with one user, and its runner."""
    monkeypatch.setenv("STOREFRONT_ENV", "production")
    shop = create_app({"SECRET_KEY": "s" * 32, "DATABASE": str(tmp_path / "shop.db")})
    runner = shop.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert _add_user(runner, "ada").exit_code == 0
    yield shop, runner
    with shop.app_context():
        db.engine.dispose()


def _user_count(shop) -> int:
    with shop.app_context():
        return db.session.scalar(text("SELECT count(*) FROM users"))


def test_init_db_drop_asks_first_in_production(production_shop):
    shop, runner = production_shop

    declined = runner.invoke(args=["init-db", "--drop"], input="n\n")
    assert declined.exit_code == 1
    assert "Drop every table of sqlite:///" in declined.output
    assert _user_count(shop) == 1
    confirmed = runner.invoke(args=["init-db", "--drop", "--yes"])
    assert confirmed.exit_code == 0, confirmed.output
    assert _user_count(shop) == 0


def test_demo_refuses_to_put_published_passwords_on_a_production_shop(production_shop):
    shop, runner = production_shop

    result = runner.invoke(args=["demo", "--no-serve"])

    assert result.exit_code == 1
    assert "STOREFRONT_ENV=development" in result.output
    assert _user_count(shop) == 1


def test_create_user_waits_for_another_writer_on_sqlite(production_shop, tmp_path):
    """A request or command writing at that moment holds SQLite's one write lock."""
    shop, runner = production_shop
    other = sqlite3.connect(tmp_path / "shop.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releasing = threading.Timer(1.0, other.execute, args=("COMMIT",))
    releasing.start()

    result = _add_user(runner, "bea")

    releasing.join()
    other.close()
    assert result.exit_code == 0, result.output
    assert _user_count(shop) == 2


def test_a_database_locked_past_the_timeout_is_called_busy(production_shop, tmp_path, monkeypatch):
    shop, runner = production_shop
    monkeypatch.setattr(storefront, "SQLITE_BUSY_TIMEOUT_MS", 100)
    with shop.app_context():
        db.engine.dispose()  # new connections, with the shorter wait
    other = sqlite3.connect(tmp_path / "shop.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = _add_user(runner, "bea")
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert result.exit_code == 1
    assert "Error: the database is busy" in result.output
