"""Each fixture of the test kit does what its docstring promises."""

from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storefront.accounts.models import User


def test_db_changes_are_invisible_outside_the_test_transaction(db, user_factory):
    user_factory(username="isolated")
    assert db.session.scalar(select(User).where(User.username == "isolated")) is not None
    with Session(db.engine) as outside:
        assert outside.scalar(select(User).where(User.username == "isolated")) is None


def test_user_factory_users_can_log_in_with_their_password(client, user_factory):
    someone = user_factory(password="a-chosen-password")
    response = client.post(
        "/api/login", json={"username": someone.username, "password": "a-chosen-password"}
    )
    assert response.status_code == 200


def test_role_fixtures_log_in_with_the_rights_of_their_role(app, user, staff, admin):
    reads_of_the_user_list = {}
    for person in (user, staff, admin):
        browser = app.test_client()
        logged_in = browser.post(
            "/api/login", json={"username": person.username, "password": person.password}
        )
        assert logged_in.status_code == 200  # confirmed, so allowed in
        reads_of_the_user_list[logged_in.get_json()["user"]["role"]] = browser.get(
            "/api/users"
        ).status_code
    assert reads_of_the_user_list == {"customer": 403, "staff": 403, "admin": 200}


def test_csrf_token_reads_the_forms_token(client, csrf_token):
    token = csrf_token(client, "/form")
    assert len(token) > 20


def test_csrf_token_fails_clearly_without_a_form(client, csrf_token):
    with pytest.raises(AssertionError, match="no csrf_token"):
        csrf_token(client, "/healthz")


def test_assert_max_queries_counts_statements(client, admin, login_as, assert_max_queries):
    login_as(client, admin)
    with assert_max_queries(10) as log:
        client.get("/api/users")
    assert 1 <= len(log) <= 10
    with pytest.raises(AssertionError, match="expected at most 0"), assert_max_queries(0):
        client.get("/api/users")


def test_user_list_costs_the_same_queries_for_5_and_500_users(
    client, db, admin, login_as, assert_max_queries
):
    login_as(client, admin)
    client.get("/api/me")  # the first request registers a tutorial-style session

    def add_users(count: int, start: int) -> None:
        db.session.add_all(
            User(username=f"bulk{i}", email=f"bulk{i}@example.com", password_hash="x")
            for i in range(start, start + count)
        )
        db.session.commit()

    add_users(4, 0)
    with assert_max_queries(50) as small:
        assert len(client.get("/api/users?per_page=100").get_json()) == 5
    add_users(495, 4)
    with assert_max_queries(len(small)) as large:
        assert len(client.get("/api/users?per_page=100").get_json()) == 100
    assert len(large) == len(small)


def test_make_app_applies_overrides(make_app):
    small = make_app(MAX_CONTENT_LENGTH=1234).test_client()
    answer = small.post("/api/users", json={"username": "x" * 2000})
    assert answer.status_code == 413


def test_run_cli_runs_commands_on_the_test_database(run_cli, db):
    result = run_cli("create-user", "cli-made", "cli@example.com", "--password", "long-password-1")
    assert result.exit_code == 0
    assert db.session.scalar(select(func.count()).where(User.username == "cli-made")) == 1


def test_live_server_serves_real_http(live_server):
    with urllib.request.urlopen(f"{live_server.url}/healthz", timeout=5) as response:  # noqa: S310
        assert json.load(response) == {"status": "ok"}


@pytest.mark.parametrize("attempt", [1, 2])
def test_live_server_starts_each_test_with_an_empty_database(live_server, attempt):
    """The same registration in two tests: the second is a 201 only if the first was erased."""
    request = urllib.request.Request(
        f"{live_server.url}/api/users",
        data=json.dumps(
            {"username": "live", "email": "live@example.com", "password": "a-long-password"}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 201
