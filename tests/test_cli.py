"""The `storefront` command line, driven through the Flask CLI runner."""

from __future__ import annotations

from sqlalchemy import inspect, select

from storefront.accounts.models import User


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
    assert db.session.scalar(select(User).where(User.username == "eve")) is None


def test_init_db_builds_the_schema_on_an_empty_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.db'}")
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from storefront.extensions import db

        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"users", "sessions", "files", "contact_messages"} <= tables
