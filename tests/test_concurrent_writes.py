"""Many writers at once on a real server: the database's locking never surfaces as an error.

On SQLite a transaction that read and then writes fails at once if another connection wrote
meanwhile; the app takes the write lock up front for unsafe requests and keeps slow password
hashing outside of it. On PostgreSQL the same test checks plain concurrency.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from storefront.testing.factories import DEFAULT_PASSWORD

THREADS = 12


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_simultaneous_registrations_and_logins_all_succeed(live_server):
    created = live_server.app.test_cli_runner().invoke(
        args=["create-user", "shopper", "shopper@example.com", "--password", DEFAULT_PASSWORD]
    )
    assert created.exit_code == 0, created.output

    def register_and_log_in(i: int) -> tuple[int, int]:
        registered = _post(
            f"{live_server.url}/api/users",
            {
                "username": f"racer{i}",
                "email": f"racer{i}@example.com",
                "password": "a-long-password-77",
            },
        )
        logged_in = _post(
            f"{live_server.url}/api/login",
            {"username": "shopper", "password": DEFAULT_PASSWORD},
        )
        return registered, logged_in

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(register_and_log_in, range(THREADS)))
    assert Counter(registered for registered, _ in results) == {201: THREADS}
    assert Counter(logged_in for _, logged_in in results) == {200: THREADS}
