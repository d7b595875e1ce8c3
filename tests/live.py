"""Helpers for races against the live server: logged-in `requests` sessions, a start line."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

TIMEOUT = 30


def logged_in_session(live_server: Any, user_id: int) -> requests.Session:
    """A `requests` session carrying a server-side session cookie for user `user_id`.

    The session is written through the live app (as `login_as` does), so the race does
    not depend on the login route or its rate limit.
    """
    client = live_server.app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    cookie = client.get_cookie(live_server.app.config["SESSION_COOKIE_NAME"])
    session = requests.Session()
    session.headers["Cookie"] = f"{cookie.key}={cookie.value}"
    return session


def all_at_once(calls: list[Any]) -> list[requests.Response]:
    """Run every call in its own thread, released together; return the responses."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> requests.Response:
        barrier.wait(timeout=TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def add_to_cart(live_server: Any, session: requests.Session, product_id: int, n: int) -> None:
    """Put `n` of a product in the session's cart, before a race starts."""
    response = session.post(
        f"{live_server.url}/api/cart/items",
        json={"product_id": product_id, "quantity": n},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text


def checkout_call(live_server: Any, session: requests.Session, key: str | None = None) -> Any:
    """A call for `all_at_once`: check out the session's cart (with `key`, if given)."""
    headers = {"Idempotency-Key": key} if key else {}
    url = f"{live_server.url}/api/cart/checkout"
    return lambda: session.post(url, headers=headers, timeout=TIMEOUT)
