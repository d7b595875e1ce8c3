"""Session login, the protected route and logout."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from storefront.accounts.models import User


def _login(client, username, password):
    return client.post("/api/login", json={"username": username, "password": password})


def test_login_protected_logout_cycle(client, user):
    response = _login(client, user.username, user.password)
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "Login successful"
    assert body["user"]["id"] == user.id
    assert client.get("/api/protected").get_json() == {"message": f"Hello, {user.username}!"}
    assert client.get("/api/me").get_json()["username"] == user.username
    assert client.post("/api/logout").get_json() == {"message": "Logged out"}
    assert client.get("/api/protected").status_code == 401


def test_login_with_email_instead_of_username(client, user):
    assert _login(client, user.email.upper(), user.password).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client, user):
    wrong = _login(client, user.username, "not-the-password")
    unknown = _login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_login_missing_fields_is_400(client):
    response = client.post("/api/login", json={"username": "x"})
    assert response.status_code == 400
    assert "password" in response.get_json()["fields"]


def test_login_through_session_transaction(client, user):
    with client.session_transaction() as session:
        session["user_id"] = user.id
    assert client.get("/api/protected").status_code == 200


def test_a_user_id_written_as_text_logs_in_too(client, user):
    """Flask-Login keeps ids as text; a test written that way logs in all the same."""
    with client.session_transaction() as session:
        session["user_id"] = str(user.id)

    assert client.get("/api/me").json["id"] == user.id
    assert client.post("/api/logout?all=1").status_code == 200
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("garbage", [0, -1, 2**31, 2**63 + 5, "9" * 5000, None, True])
def test_a_session_naming_no_possible_user_is_anonymous(client, garbage):
    with client.session_transaction() as session:
        session["user_id"] = garbage
    assert client.get("/api/me").status_code == 401
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "written",
    [float, "0{}".format, " {}".format, "{}.0".format, "+{}".format, "{}\n".format],
    ids=["float", "leading zero", "space", "decimal point", "plus sign", "newline"],
)
def test_a_user_id_written_otherwise_than_as_a_number_is_anonymous(client, user, written):
    """Only an id or its plain decimal text names a user: `1.0`, `"01"`, `"1.0"` name none."""
    with client.session_transaction() as session:
        session["user_id"] = written(user.id)
    assert client.get("/api/me").status_code == 401
    assert client.get("/").status_code == 200


def test_a_nul_in_the_browser_name_is_dropped_from_the_session_list(client, user):
    agent = {"User-Agent": "Odd\x00Browser/1.0"}
    login = {"username": user.username, "password": user.password}
    assert client.post("/api/login", json=login, headers=agent).status_code == 200
    sessions = client.get("/api/me/sessions").get_json()
    assert [s["user_agent"] for s in sessions] == ["OddBrowser/1.0"]


def test_protected_route_without_login_is_401_json(client):
    response = client.get("/api/protected")
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json()["error"]


def test_login_issues_a_new_session_id(client, user):
    client.get("/form")  # a visitor's session, stored
    before = client.get_cookie("storefront_session").value
    _login(client, user.username, user.password)
    after = client.get_cookie("storefront_session").value
    assert after != before
    old = client.application.test_client()
    old.set_cookie("storefront_session", before)
    assert old.get("/api/me").status_code == 401


def test_session_cookie_is_httponly_and_samesite(client, user):
    response = _login(client, user.username, user.password)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_rehashes_a_password_made_with_old_parameters(make_app, db, user):
    """The operator raised the hashing cost: each password is upgraded at its next login."""
    old_hash = user.password_hash
    costlier = make_app(PASSWORD_HASH_TIME_COST=2).test_client()
    assert _login(costlier, user.username, user.password).status_code == 200
    new_hash = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert new_hash != old_hash
    assert "t=2" in new_hash
    assert new_hash.startswith("$argon2id$")


def test_a_username_in_any_case_logs_in_to_its_one_account(client, user_factory):
    erin = user_factory(username="Erin")

    response = _login(client, "eRIN", erin.password)

    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == erin.id


COMPOSED = "caf\u00e9-orchard-lantern-42"  # é as one code point (NFC)
DECOMPOSED = "cafe\u0301-orchard-lantern-42"  # e and a combining acute accent (NFD)


@pytest.mark.parametrize(("chosen", "typed"), [(COMPOSED, DECOMPOSED), (DECOMPOSED, COMPOSED)])
def test_a_password_logs_in_however_its_accents_are_encoded(client, user_factory, chosen, typed):
    """One keyboard sends é composed, another decomposed: it is the same password."""
    accented = user_factory(password=chosen)

    assert _login(client, accented.username, typed).status_code == 200
    assert _login(client, accented.username, chosen).status_code == 200
    assert _login(client, accented.username, "cafe-orchard-lantern-42").status_code == 401


def test_a_hash_of_a_password_kept_as_typed_still_logs_in_and_is_upgraded(client, db, user):
    """Hashes made before passwords were normalised hold the text as it was typed."""
    as_typed = client.application.extensions["storefront.hasher"].hash(DECOMPOSED)
    db.session.execute(update(User).where(User.id == user.id).values(password_hash=as_typed))
    db.session.commit()

    assert _login(client, user.username, DECOMPOSED).status_code == 200
    upgraded = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert upgraded != as_typed
    assert _login(client, user.username, COMPOSED).status_code == 200
    assert _login(client, user.username, DECOMPOSED).status_code == 200
