"""Sessions you can see and end: listing, ending one or all, lifetimes, both stores."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from storefront.extensions import utcnow
from storefront.sessions import StoredSession, UserSession

from .helpers import login


def _device(app, user, agent):
    device = app.test_client()
    response = login(device, user.username, user.password, **{"User-Agent": agent})
    assert response.status_code == 200
    return device


def test_sessions_are_listed_with_their_details(app, client, user):
    login(client, user.username, user.password, **{"User-Agent": "Laptop/1.0"})
    _device(app, user, "Phone/2.0")

    sessions = client.get("/api/me/sessions").json

    assert sorted(s["user_agent"] for s in sessions) == ["Laptop/1.0", "Phone/2.0"]
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1 and current[0]["user_agent"] == "Laptop/1.0"
    for entry in sessions:
        assert set(entry) == {"id", "created_at", "last_seen_at", "user_agent", "current"}
        assert entry["created_at"].endswith("Z")


@pytest.mark.parametrize(
    ("agent", "listed"),
    [
        ("Nul\x00Phone/1.0", "NulPhone/1.0"),
        ("Odd\ud800Phone/1.0", "Odd?Phone/1.0"),
        ("Long/1.0 " + "x" * 1000, "Long/1.0 " + "x" * 246),
    ],
)
def test_a_user_agent_no_database_can_store_is_cleaned_not_a_500(app, user, agent, listed):
    device = _device(app, user, agent)
    assert [s["user_agent"] for s in device.get("/api/me/sessions").json] == [listed]


def test_the_sessions_list_is_paginated_like_every_list(app, client, user):
    login(client, user.username, user.password, **{"User-Agent": "Laptop/1.0"})
    _device(app, user, "Phone/2.0")

    first = client.get("/api/me/sessions?per_page=1")

    assert len(first.json) == 1
    assert first.headers["X-Total-Count"] == "2"
    assert 'rel="next"' in first.headers["Link"]
    for garbage in ("page=0", "per_page=101", "page=abc"):
        refused = client.get(f"/api/me/sessions?{garbage}")
        assert refused.status_code == 400 and refused.json["fields"], garbage
    second = client.get("/api/me/sessions?per_page=1&page=2").json
    assert {first.json[0]["id"], second[0]["id"]} == {
        s["id"] for s in client.get("/api/me/sessions").json
    }


def test_ending_another_session_logs_that_device_out(app, client, user):
    login(client, user.username, user.password)
    phone = _device(app, user, "Phone/2.0")
    [other] = [s for s in client.get("/api/me/sessions").json if not s["current"]]

    assert client.delete(f"/api/me/sessions/{other['id']}").status_code == 204

    assert phone.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200
    assert len(client.get("/api/me/sessions").json) == 1


def test_ending_the_current_session_logs_out(client, user):
    login(client, user.username, user.password)
    [mine] = client.get("/api/me/sessions").json

    assert client.delete(f"/api/me/sessions/{mine['id']}").status_code == 204
    assert client.get("/api/me").status_code == 401


def test_someone_elses_session_is_404(app, client, user, user_factory):
    stranger = user_factory()
    stranger_device = _device(app, stranger, "Other/1.0")
    [theirs] = stranger_device.get("/api/me/sessions").json
    login(client, user.username, user.password)

    assert client.delete(f"/api/me/sessions/{theirs['id']}").status_code == 404
    assert client.delete("/api/me/sessions/999999").status_code == 404
    assert stranger_device.get("/api/me").status_code == 200


def test_logout_voids_the_cookie_even_when_replayed(app, client, user):
    login(client, user.username, user.password)
    cookie = client.get_cookie("storefront_session").value

    assert client.post("/api/logout").json == {"message": "Logged out"}

    replay = app.test_client()
    replay.set_cookie("storefront_session", cookie)
    assert replay.get("/api/me").status_code == 401


def test_logout_all_ends_every_session(app, client, user):
    login(client, user.username, user.password)
    phone = _device(app, user, "Phone/2.0")

    assert client.post("/api/logout?all=1").status_code == 200

    assert client.get("/api/me").status_code == 401
    assert phone.get("/api/me").status_code == 401


def test_password_change_ends_the_other_sessions_only(app, client, user):
    login(client, user.username, user.password)
    phone = _device(app, user, "Phone/2.0")

    changed = client.patch(
        f"/api/users/{user.id}",
        json={"password": "fresh-meadow-lantern-3", "current_password": user.password},
    )

    assert changed.status_code == 200
    assert client.get("/api/me").status_code == 200
    assert phone.get("/api/me").status_code == 401


def test_a_tutorial_style_login_works_and_is_listed(client, user, login_as):
    login_as(client, user)

    assert client.get("/api/protected").json == {"message": f"Hello, {user.username}!"}
    [entry] = client.get("/api/me/sessions").json
    assert entry["current"] is True


def test_login_as_another_user_on_the_same_client_switches_user(client, user, admin, login_as):
    login_as(client, user)
    assert client.get("/api/me").json["id"] == user.id

    login_as(client, admin)

    assert client.get("/api/me").json["id"] == admin.id


def _age_sessions(db, **fields):
    db.session.execute(update(UserSession).values(**fields))
    db.session.commit()


def test_idle_session_expires(app, client, db, user, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT_SECONDS", 600)
    login(client, user.username, user.password)
    _age_sessions(db, last_seen_at=utcnow() - timedelta(seconds=599))
    assert client.get("/api/me").status_code == 200  # activity moves last_seen on

    _age_sessions(db, last_seen_at=utcnow() - timedelta(seconds=601))

    assert client.get("/api/me").status_code == 401


def test_a_session_idle_too_long_is_neither_listed_nor_kept_by_the_cleanup(
    app, client, db, user, run_cli, monkeypatch
):
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT_SECONDS", 600)
    phone = _device(app, user, "Phone/2.0")
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(seconds=601)))
    db.session.commit()
    login(client, user.username, user.password, **{"User-Agent": "Laptop/1.0"})

    listed = client.get("/api/me/sessions").json
    assert [entry["user_agent"] for entry in listed] == ["Laptop/1.0"]
    assert "1 logins past" in run_cli("sessions-cleanup").output
    assert phone.get("/api/me").status_code == 401


def test_session_expires_after_its_absolute_lifetime_despite_activity(
    app, client, db, user, monkeypatch
):
    monkeypatch.setitem(app.config, "SESSION_LIFETIME_SECONDS", 3600)
    login(client, user.username, user.password)
    _age_sessions(db, created_at=utcnow() - timedelta(seconds=3601))

    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me/sessions").status_code == 401


def test_anonymous_requests_do_not_touch_the_session_store(client, assert_max_queries):
    with assert_max_queries(0):
        response = client.get("/api/me")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_reads_after_login_neither_rewrite_the_session_nor_resend_its_cookie(
    client, user, assert_max_queries
):
    logged_in = login(client, user.username, user.password)
    assert logged_in.headers["Set-Cookie"].startswith("storefront_session=")  # the first one
    cookies = logged_in.headers.getlist("Set-Cookie")
    assert any(c.startswith("storefront_device=") for c in cookies)
    client.get("/api/me")  # the first request after login may record activity

    with assert_max_queries(2):  # load the session, then its user_sessions row and user
        answer = client.get("/api/me")

    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers


def test_a_session_cookie_that_is_no_session_id_is_an_anonymous_visitor(client):
    for value in ["\x00", "forged\x00id", "x" * 4000, "not/base64=="]:
        client.set_cookie("storefront_session", value)
        answer = client.get("/api/me")
        assert answer.status_code == 401
        assert answer.is_json


def test_a_logged_in_request_costs_one_query_for_session_and_user(client, user, assert_max_queries):
    login(client, user.username, user.password)
    client.get("/api/me")

    with assert_max_queries(10) as log:
        client.get("/api/me")
    own = [s for s in log.statements if "user_sessions" in s or "FROM users" in s]
    assert len(own) == 1, log.statements


#: Redis keys a test leaves expire within the hour, not the production 14 days: the test
#: Redis may be shared, and is never flushed.
SHORT_LIVED = {"SESSION_LIFETIME_SECONDS": 3600}


@pytest.fixture
def redis_app(make_app, redis_url):
    """An app whose sessions live in Redis (same database as the rest of the test)."""
    return make_app(REDIS_URL=redis_url, REDIS_KEY_PREFIX=f"test-{uuid.uuid4().hex}", **SHORT_LIVED)


def test_redis_store_lists_and_ends_sessions(redis_app, db, user):
    laptop, phone = redis_app.test_client(), redis_app.test_client()
    assert login(laptop, user.username, user.password, **{"User-Agent": "L"}).status_code == 200
    assert login(phone, user.username, user.password, **{"User-Agent": "P"}).status_code == 200
    sessions = laptop.get("/api/me/sessions").json
    assert len(sessions) == 2
    [other] = [s for s in sessions if not s["current"]]

    assert laptop.delete(f"/api/me/sessions/{other['id']}").status_code == 204
    assert phone.get("/api/me").status_code == 401
    assert laptop.post("/api/logout").status_code == 200
    assert laptop.get("/api/me").status_code == 401


def test_two_shops_on_one_redis_keep_their_sessions_apart(redis_app, make_app, redis_url, db, user):
    other_shop = make_app(
        REDIS_URL=redis_url, REDIS_KEY_PREFIX=f"test-{uuid.uuid4().hex}", **SHORT_LIVED
    )
    client = redis_app.test_client()
    assert login(client, user.username, user.password).status_code == 200
    elsewhere = other_shop.test_client()
    elsewhere.set_cookie("storefront_session", client.get_cookie("storefront_session").value)

    assert elsewhere.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200


def test_redis_store_keeps_a_tutorial_style_login(redis_app, db, user, login_as):
    client = redis_app.test_client()
    login_as(client, user)

    assert client.get("/api/me").json["id"] == user.id
    assert len(client.get("/api/me/sessions").json) == 1


def test_sessions_cleanup_removes_logins_past_their_lifetime(client, db, user, run_cli):
    login(client, user.username, user.password)
    _age_sessions(db, created_at=utcnow() - timedelta(days=400))

    result = run_cli("sessions-cleanup")

    assert result.exit_code == 0
    assert "1 logins past" in result.output
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_redis_store_sessions_end_on_password_reset(redis_app, db, user, mail_outbox):
    for key, value in mail_outbox.settings.items():
        redis_app.config[key] = value
    phone, laptop = redis_app.test_client(), redis_app.test_client()
    assert login(phone, user.username, user.password).status_code == 200

    laptop.post("/api/password-reset", json={"email": user.email})
    token = mail_outbox.last_token(user.email, "/reset/")
    reset = laptop.post(
        "/api/password-reset/confirm", json={"token": token, "password": "harbour-lamp-quill-5"}
    )

    assert reset.status_code == 200
    assert phone.get("/api/me").status_code == 401


def test_a_deleted_account_logs_its_sessions_out(app, client, user, admin, login_as):
    phone = app.test_client()
    assert login(phone, user.username, user.password).status_code == 200
    login_as(client, admin)

    assert client.delete(f"/api/users/{user.id}").status_code == 204

    assert phone.get("/api/me").status_code == 401


def test_anonymous_logout_all_is_harmless(client):
    assert client.post("/api/logout?all=1").json == {"message": "Logged out"}


def test_sessions_cleanup_keeps_live_logins_and_drops_expired_stored_sessions(
    client, db, user, run_cli
):
    login(client, user.username, user.password)
    stale = StoredSession(
        session_id="session:expired", data=b"", expiry=utcnow() - timedelta(days=1)
    )
    db.session.add(stale)
    db.session.commit()

    assert run_cli("sessions-cleanup").exit_code == 0

    assert client.get("/api/me").status_code == 200
    ids = db.session.scalars(select(StoredSession.session_id))
    assert "session:expired" not in set(ids)


def test_a_visitor_who_only_opened_a_form_is_kept_a_day_and_a_login_its_lifetime(
    app, client, db, user
):
    """Cookie-less requests for `/login` must not leave a login's worth of stored sessions."""
    assert client.get("/login").status_code == 200
    visitor = db.session.scalar(select(StoredSession.expiry))
    assert utcnow() + timedelta(hours=23) < visitor <= utcnow() + timedelta(days=1)

    login(client, user.username, user.password)

    logged_in = db.session.scalar(select(func.max(StoredSession.expiry)))
    assert logged_in > utcnow() + app.config["PERMANENT_SESSION_LIFETIME"] - timedelta(hours=1)


def test_a_visitor_is_kept_no_longer_than_a_login_would_be(make_app, db):
    shop = make_app(SESSION_LIFETIME_SECONDS=3600)

    assert shop.test_client().get("/login").status_code == 200

    assert db.session.scalar(select(StoredSession.expiry)) <= utcnow() + timedelta(hours=1)


def test_redis_keeps_a_visitor_who_only_opened_a_form_for_a_day(make_app, redis_url, db):
    shop = make_app(
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        SESSION_LIFETIME_SECONDS=14 * 24 * 3600,
    )
    store = shop.session_interface.client

    assert shop.test_client().get("/login").status_code == 200

    (key,) = store.keys(f"{shop.config['REDIS_KEY_PREFIX']}:session:*")
    try:
        assert 23 * 3600 < store.ttl(key) <= 24 * 3600
    finally:
        store.delete(key)


def test_a_stored_session_past_its_expiry_is_not_used(client, db, user):
    login(client, user.username, user.password)
    db.session.execute(update(StoredSession).values(expiry=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    assert client.get("/api/me").status_code == 401


def test_logging_in_again_on_one_browser_leaves_one_session(client, user):
    login(client, user.username, user.password)
    login(client, user.username, user.password)

    assert len(client.get("/api/me/sessions").json) == 1


def test_logging_out_leaves_the_session_off_the_other_devices_list(app, client, user):
    login(client, user.username, user.password)
    phone = _device(app, user, "Phone/2.0")

    client.post("/api/logout")

    assert [s["user_agent"] for s in phone.get("/api/me/sessions").json] == ["Phone/2.0"]


def test_the_sessions_used_last_are_listed_first(app, client, db, user):
    login(client, user.username, user.password)
    for agent, idle in (("Tablet/3.0", 20), ("Phone/2.0", 1)):
        _device(app, user, agent)
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_agent == agent)
            .values(last_seen_at=utcnow() - timedelta(minutes=idle))
        )
        db.session.commit()

    listed = client.get("/api/me/sessions").json

    assert [s["user_agent"] for s in listed if not s["current"]] == ["Phone/2.0", "Tablet/3.0"]


def test_resetting_anothers_password_in_this_browser_keeps_its_own_login(
    client, user, admin, mail_outbox
):
    """A reset link followed while logged in as someone else ends that account's sessions,
    not the one this browser is logged in with."""
    client.post("/api/password-reset", json={"email": user.email})
    token = mail_outbox.last_token(user.email, "/reset/")
    login(client, admin.username, admin.password)

    reset = {"token": token, "password": "set-through-the-link-9"}
    assert client.post("/api/password-reset/confirm", json=reset).status_code == 200

    assert client.get("/api/me").json["id"] == admin.id
