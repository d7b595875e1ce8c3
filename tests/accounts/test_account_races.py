"""Account and session writes racing each other on a real server (see tests/live.py).

On PostgreSQL these requests really overlap: a request that read a row and then writes it
back, without holding it, finds it gone and must answer as if it came after, not a 500.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial
from typing import Any

import requests
from flask import request
from sqlalchemy import delete, select, update

from live import TIMEOUT, all_at_once, logged_in_session
from storefront import sessions
from storefront.accounts import service
from storefront.accounts.models import User
from storefront.extensions import db, utcnow
from storefront.sessions import UserSession
from storefront.testing.factories import UserFactory

ROUNDS = 6


def new_user(live_server: Any, **fields: Any) -> int:
    with live_server.app.app_context():
        return UserFactory(**fields).id


def registered_tab(live_server: Any, user_id: int) -> Any:
    """A session of the user, registered by a first request."""
    tab = logged_in_session(live_server, user_id)
    assert tab.get(f"{live_server.url}/api/me", timeout=TIMEOUT).status_code == 200
    return tab


def age_sessions(live_server: Any) -> None:
    """Make every session last seen minutes ago, so its next request records activity."""
    with live_server.app.app_context():
        past = utcnow() - timedelta(minutes=5)
        db.session.execute(update(UserSession).values(last_seen_at=past))
        db.session.commit()
        db.session.remove()


def other_session_id(live_server: Any, tab: Any) -> int:
    sessions = tab.get(f"{live_server.url}/api/me/sessions", timeout=TIMEOUT).json()
    return next(s["id"] for s in sessions if not s["current"])


def test_a_request_whose_session_ends_while_it_runs_is_a_401_not_a_500(live_server, monkeypatch):
    """The request has read its session's row and is about to record activity on it when
    the session is ended from another device."""
    user_id = new_user(live_server)
    tab, other = registered_tab(live_server, user_id), registered_tab(live_server, user_id)
    end_url = f"{live_server.url}/api/me/sessions/{other_session_id(live_server, tab)}"
    age_sessions(live_server)
    touching, may_go = threading.Event(), threading.Event()
    begin = sessions.begin_write_transaction

    def paused_begin() -> None:
        if request.method == "GET":
            touching.set()
            may_go.wait(timeout=TIMEOUT)
        begin()

    monkeypatch.setattr(sessions, "begin_write_transaction", paused_begin)
    answers: list[Any] = []
    reader = threading.Thread(
        target=lambda: answers.append(other.get(f"{live_server.url}/api/me", timeout=TIMEOUT))
    )
    reader.start()
    try:
        assert touching.wait(timeout=TIMEOUT)
        ended = tab.delete(end_url, timeout=TIMEOUT)
    finally:
        may_go.set()
        reader.join(timeout=TIMEOUT)

    assert ended.status_code == 204, ended.text
    assert answers[0].status_code == 401, answers[0].text


def test_deleting_a_user_twice_at_once_is_one_204_and_one_404(live_server):
    admins = [registered_tab(live_server, new_user(live_server, role="admin")) for _ in range(2)]
    for _ in range(ROUNDS):
        url = f"{live_server.url}/api/users/{new_user(live_server)}"

        responses = all_at_once(
            [lambda tab=tab, url=url: tab.delete(url, timeout=TIMEOUT) for tab in admins]
        )

        assert sorted(r.status_code for r in responses) == [204, 404], [r.text for r in responses]


def test_the_last_two_admins_stepping_down_at_once_leave_one(live_server):
    """Each sees another admin beside them; holding the admins' rows makes the second wait
    and then see that it is the last."""
    admins = [new_user(live_server, role="admin") for _ in range(2)]
    tabs = [registered_tab(live_server, admin) for admin in admins]

    responses = all_at_once(
        [
            lambda tab=tab, url=f"{live_server.url}/api/users/{admin}": tab.patch(
                url, json={"role": "staff"}, timeout=TIMEOUT
            )
            for tab, admin in zip(tabs, admins, strict=True)
        ]
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    with live_server.app.app_context():
        assert len(db.session.scalars(select(User.id).where(User.role == "admin")).all()) == 1
        db.session.remove()


def test_changing_an_email_while_the_account_is_deleted_is_done_or_refused(live_server):
    """Done first (200), or refused once the account is gone: its session ended (401) or,
    the session still read, no such user (404); never a 500."""
    admin = registered_tab(live_server, new_user(live_server, role="admin"))
    for round_ in range(ROUNDS):
        user_id = new_user(live_server)
        own = registered_tab(live_server, user_id)
        url = f"{live_server.url}/api/users/{user_id}"
        body = {"email": f"moved{round_}@example.com"}

        changed, deleted = all_at_once(
            [
                lambda url=url, body=body, own=own: own.patch(url, json=body, timeout=TIMEOUT),
                lambda url=url: admin.delete(url, timeout=TIMEOUT),
            ]
        )

        assert deleted.status_code == 204, deleted.text
        assert changed.status_code in (200, 401, 404), changed.text


def test_a_login_checked_before_a_password_change_does_not_outlive_it(live_server, monkeypatch):
    """The change lands after the login verified the old password, before its session starts."""
    user_id = new_user(live_server, password="the-old-password-1")
    tab = registered_tab(live_server, user_id)
    with live_server.app.app_context():
        username = db.session.get(User, user_id).username
    original_start = service.start_user_session

    def start_after_a_password_change(*args: Any, **kwargs: Any) -> Any:
        changed = tab.patch(
            f"{live_server.url}/api/users/{user_id}",
            json={"password": "the-new-password-2", "current_password": "the-old-password-1"},
            timeout=TIMEOUT,
        )
        assert changed.status_code == 200, changed.text
        return original_start(*args, **kwargs)

    monkeypatch.setattr(service, "start_user_session", start_after_a_password_change)
    device = requests.Session()
    login = device.post(
        f"{live_server.url}/api/login",
        json={"username": username, "password": "the-old-password-1"},
        timeout=TIMEOUT,
    )
    monkeypatch.undo()

    assert login.status_code == 401
    assert device.get(f"{live_server.url}/api/me", timeout=TIMEOUT).status_code == 401


def test_the_first_requests_of_a_tutorial_style_session_at_once_all_log_in(live_server):
    """A session holding only `user_id` is registered by its first request; when several
    come at once, one registers it and the others use that registration."""
    user_id = new_user(live_server)
    for round_ in range(ROUNDS):
        tab = logged_in_session(live_server, user_id)
        me = partial(tab.get, f"{live_server.url}/api/me", timeout=TIMEOUT)

        answers = all_at_once([me] * 6)

        assert [answer.status_code for answer in answers] == [200] * 6, answers[0].text
        listed = tab.get(f"{live_server.url}/api/me/sessions", timeout=TIMEOUT).json()
        assert len(listed) == round_ + 1  # one registration per tab, however many requests


def test_a_tutorial_style_session_whose_user_is_deleted_at_its_first_request_is_a_401(
    live_server, monkeypatch
):
    """The user is read, then deleted, before the session's registration is written."""
    user_id = new_user(live_server)
    tab = logged_in_session(live_server, user_id)
    register = sessions._register

    def user_deleted_first(registered_id: int) -> Any:
        with live_server.app.app_context():
            db.session.execute(delete(User).where(User.id == registered_id))
            db.session.commit()
        return register(registered_id)

    monkeypatch.setattr(sessions, "_register", user_deleted_first)

    answer = tab.get(f"{live_server.url}/api/me", timeout=TIMEOUT)

    assert answer.status_code == 401, answer.text
