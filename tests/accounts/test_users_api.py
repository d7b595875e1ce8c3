"""The users API of the tutorial, adapted to the contract in API.md."""

from __future__ import annotations

import re

import pytest

from storefront.testing.mail import text_of

NEW_USER = {"username": "alice", "email": "Alice@Example.com", "password": "a-long-enough-password"}


def test_register_creates_a_customer(client):
    response = client.post("/api/users", json=NEW_USER)
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["role"] == "customer"
    assert set(body) == {"id", "username", "email", "role", "confirmed", "created_at"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert response.headers["Location"] == f"/api/users/{body['id']}"


def test_register_missing_fields_names_them(client):
    response = client.post("/api/users", json={"username": "bob"})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"email", "password"}


def test_register_duplicate_username_or_email_is_409(client, user):
    taken_name = {**NEW_USER, "username": user.username}
    assert client.post("/api/users", json=taken_name).status_code == 409
    taken_email = {**NEW_USER, "email": user.email.upper()}
    response = client.post("/api/users", json=taken_email)
    assert response.status_code == 409
    assert "email" in response.get_json()["error"]
    assert response.get_json()["fields"] == {"email": "already registered"}


def test_register_refuses_bad_username_and_email(client):
    response = client.post(
        "/api/users", json={**NEW_USER, "username": "../../etc", "email": "nope"}
    )
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"username", "email"}


def test_admin_lists_users_paginated(client, admin, user_factory, login_as):
    user_factory.create_batch(4)
    login_as(client, admin)
    response = client.get("/api/users?per_page=2&page=2")
    assert response.status_code == 200
    assert len(response.get_json()) == 2
    assert response.headers["X-Total-Count"] == "5"
    link = response.headers["Link"]
    for rel in ("first", "prev", "next", "last"):
        assert f'rel="{rel}"' in link
    assert "page=3" in link


def test_list_users_page_past_the_end_is_empty(client, admin, login_as):
    login_as(client, admin)
    response = client.get("/api/users?page=50")
    assert response.status_code == 200
    assert response.get_json() == []


def test_list_users_bad_paging_is_400(client, admin, login_as):
    login_as(client, admin)
    for query in ("page=0", "page=abc", "per_page=101", "per_page=-1"):
        assert client.get(f"/api/users?{query}").status_code == 400, query


def test_customer_cannot_list_users(client, user, login_as):
    assert client.get("/api/users").status_code == 401
    login_as(client, user)
    assert client.get("/api/users").status_code == 403


def test_user_reads_own_record_and_admin_reads_any(client, user, admin, login_as):
    login_as(client, user)
    assert client.get(f"/api/users/{user.id}").get_json()["username"] == user.username
    login_as(client, admin)
    assert client.get(f"/api/users/{user.id}").status_code == 200


def test_another_users_record_is_404_for_a_customer(client, user, user_factory, login_as):
    other = user_factory()
    login_as(client, user)
    assert client.get(f"/api/users/{other.id}").status_code == 404
    assert (
        client.patch(f"/api/users/{other.id}", json={"email": "x@example.com"}).status_code == 404
    )
    assert client.delete(f"/api/users/{other.id}").status_code == 404


def test_missing_user_is_404(client, admin, login_as):
    login_as(client, admin)
    response = client.get("/api/users/987654")
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_user_changes_own_email(client, user, login_as):
    login_as(client, user)
    response = client.patch(f"/api/users/{user.id}", json={"email": "New@Example.com"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "new@example.com"


def test_an_email_taken_by_an_account_saved_at_the_same_moment_is_409(
    client, user, user_factory, login_as, checked_too_early
):
    other = user_factory(email="taken@example.com")
    login_as(client, user)
    checked_too_early("storefront.accounts.service._ensure_free")

    response = client.patch(f"/api/users/{user.id}", json={"email": other.email})

    assert response.status_code == 409
    assert response.get_json()["fields"] == {"email": "already registered"}
    assert client.get("/api/me").get_json()["email"] == user.email


def test_the_old_address_is_told_of_an_email_change(client, user, login_as, mail_outbox):
    old_address = user.email
    login_as(client, user)
    client.patch(f"/api/users/{user.id}", json={"email": "moved@example.com"})

    notice = mail_outbox.last_to(old_address)
    assert notice["Subject"] == "Your Storefront email address changed"
    assert "changed to moved@example.com" in text_of(notice)
    assert "\nFrom now on," in text_of(notice)  # as written: not mbox-escaped to ">From"
    assert mail_outbox.to("moved@example.com") == []
    client.patch(f"/api/users/{user.id}", json={"email": "MOVED@example.com"})
    assert len(mail_outbox.to(old_address)) == 1


def test_password_change_needs_the_current_password(client, user, login_as):
    login_as(client, user)
    url = f"/api/users/{user.id}"
    wrong = client.patch(url, json={"password": "another-long-password", "current_password": "x"})
    assert wrong.status_code == 400
    assert "current_password" in wrong.get_json()["fields"]
    ok = client.patch(
        url, json={"password": "another-long-password", "current_password": user.password}
    )
    assert ok.status_code == 200
    client.post("/api/logout")
    login = {"username": user.username, "password": "another-long-password"}
    assert client.post("/api/login", json=login).status_code == 200


def test_an_email_change_with_a_wrong_current_password_changes_nothing(client, user, login_as):
    """Sent along, `current_password` is checked, never ignored."""
    login_as(client, user)
    url = f"/api/users/{user.id}"
    move = {"email": "elsewhere@example.com"}

    wrong = client.patch(url, json={**move, "current_password": "not-my-password"})
    assert wrong.status_code == 400
    assert wrong.get_json()["fields"] == {"current_password": "does not match your password"}
    assert client.get("/api/me").get_json()["email"] == user.email

    right = client.patch(url, json={**move, "current_password": user.password})
    assert right.status_code == 200
    assert right.get_json()["email"] == "elsewhere@example.com"


def test_an_admin_confirms_with_their_own_current_password(client, user, admin, login_as):
    login_as(client, admin)
    url = f"/api/users/{user.id}"
    new = {"password": "set-by-the-admin-1"}
    assert client.patch(url, json={**new, "current_password": "not-the-admins"}).status_code == 400
    assert client.patch(url, json={**new, "current_password": admin.password}).status_code == 200
    assert client.patch(url, json={"email": "by-admin@example.com"}).status_code == 200


def test_an_admin_changing_their_own_password_gives_the_current_one(client, admin, login_as):
    """Else a stolen admin session could take the account for good."""
    login_as(client, admin)
    url = f"/api/users/{admin.id}"

    without = client.patch(url, json={"password": "an-admins-new-passphrase"})

    assert without.status_code == 400
    assert "current_password" in without.get_json()["fields"]
    client.post("/api/logout")
    login = {"username": admin.username, "password": admin.password}
    assert client.post("/api/login", json=login).status_code == 200


def test_only_admins_change_roles(client, user, admin, login_as):
    login_as(client, user)
    assert client.patch(f"/api/users/{user.id}", json={"role": "admin"}).status_code == 403
    login_as(client, admin)
    response = client.patch(f"/api/users/{user.id}", json={"role": "staff"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "staff"
    assert client.patch(f"/api/users/{user.id}", json={"role": "root"}).status_code == 400


def test_the_last_admin_can_neither_step_down_nor_leave(client, admin, user_factory, login_as):
    """Else no one could manage users and roles, and only the command line makes an admin."""
    login_as(client, admin)
    url = f"/api/users/{admin.id}"

    for refused in (client.patch(url, json={"role": "staff"}), client.delete(url)):
        assert refused.status_code == 409
        assert "last admin" in refused.get_json()["error"]
    assert client.get("/api/me").get_json()["role"] == "admin"

    successor = user_factory(role="admin")
    assert client.patch(url, json={"role": "staff"}).get_json()["role"] == "staff"
    login_as(client, successor)
    assert client.delete(url).status_code == 204


def test_the_id_of_a_deleted_account_is_never_given_again(client, admin, login_as, mail_outbox):
    """A retried DELETE of a deleted account must not reach the one registered since."""
    body = {"username": "shortlived", "email": "short@example.com", "password": "a-long-passphrase"}
    first = client.post("/api/users", json=body).get_json()["id"]
    login_as(client, admin)
    assert client.delete(f"/api/users/{first}").status_code == 204

    second = client.post("/api/users", json=body).get_json()["id"]

    assert second > first
    assert client.delete(f"/api/users/{first}").status_code == 404
    assert client.get(f"/api/users/{second}").status_code == 200


def test_user_deletes_own_account_and_is_logged_out(client, user, login_as):
    login_as(client, user)
    assert client.delete(f"/api/users/{user.id}").status_code == 204
    assert client.get("/api/me").status_code == 401
    login = {"username": user.username, "password": user.password}
    assert client.post("/api/login", json=login).status_code == 401


def test_password_hashes_never_appear_in_responses(client, admin, user, login_as):
    login_as(client, admin)
    bodies = [
        client.get("/api/users").get_data(as_text=True),
        client.get(f"/api/users/{user.id}").get_data(as_text=True),
        client.get("/api/me").get_data(as_text=True),
        client.post("/api/users", json={**NEW_USER}).get_data(as_text=True),
        client.post(
            "/api/login", json={"username": admin.username, "password": admin.password}
        ).get_data(as_text=True),
    ]
    for body in bodies:
        assert "argon2" not in body
        assert "password" not in body


@pytest.mark.parametrize("field", ["email", "role", "password", "current_password"])
def test_patch_refuses_null_rather_than_ignoring_it(client, admin, user, login_as, field):
    login_as(client, admin)

    response = client.patch(f"/api/users/{user.id}", json={field: None})

    assert response.status_code == 400
    fields = response.get_json()["fields"]
    assert list(fields) == [field]
    assert "must not be null" in fields[field]
    assert client.get(f"/api/users/{user.id}").get_json()["email"] == user.email
