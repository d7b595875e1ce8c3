"""Rate limits: they trip at the configured count, answer 429 JSON with Retry-After, reset
after their window, slow one account rather than the site, and are shared through Redis."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
import uuid
from types import SimpleNamespace

import pytest

from storefront.accounts.models import User
from storefront.accounts.service import hash_password

from .helpers import PASSWORD, login, register, reset_token


@pytest.fixture
def limits_on(app, monkeypatch):
    """Switch the limits on with small, test-sized values."""

    def configure(**values: str) -> None:
        monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return configure


def _assert_limited(response):
    assert response.status_code == 429
    assert response.is_json
    assert "Try again later" in response.json["error"]
    assert int(response.headers["Retry-After"]) > 0


def test_failed_logins_slow_that_account_only(client, user, user_factory, limits_on):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    other = user_factory()

    for _ in range(3):
        assert login(client, user.username, "wrong-password-000").status_code == 401
    _assert_limited(login(client, user.username, user.password))
    _assert_limited(login(client, user.username.upper(), user.password))

    assert login(client, other.username, other.password).status_code == 200


def _login_from(client, address: str, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return client.post("/api/login", json=body, environ_base={"REMOTE_ADDR": address}).status_code


def _guess_from_many_addresses(client, username: str, count: int) -> list[int]:
    """Wrong passwords for `username`, each from another address."""
    return [
        _login_from(client, f"203.0.113.{n}", username, "wrong-password-000") for n in range(count)
    ]


def test_a_stranger_guessing_from_elsewhere_does_not_lock_the_owner_out(client, user, limits_on):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")

    names = [user.username, user.email, user.username.upper(), user.email]
    guesses = [_login_from(client, "203.0.113.7", name, "wrong-password-000") for name in names]
    assert guesses == [401, 401, 401, 429]
    assert _login_from(client, "203.0.113.7", user.username, user.password) == 429

    assert _login_from(client, "198.51.100.9", user.username, user.password) == 200


def test_guesses_spread_over_many_addresses_meet_the_accounts_total_budget(
    client, user, user_factory, limits_on
):
    limits_on(
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute", RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL="4 per minute"
    )
    other = user_factory()

    assert _guess_from_many_addresses(client, user.username, 5) == [401, 401, 401, 401, 429]
    assert _login_from(client, "198.51.100.9", user.username, user.password) == 429
    assert _login_from(client, "198.51.100.9", other.username, other.password) == 200


def test_guesses_from_many_addresses_do_not_lock_out_a_browser_that_logged_in_before(
    app, client, user, limits_on
):
    limits_on(
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute", RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL="4 per minute"
    )
    assert _login_from(client, "198.51.100.9", user.username, user.password) == 200
    stranger = app.test_client()
    _guess_from_many_addresses(stranger, user.username, 5)
    assert _login_from(stranger, "203.0.113.99", user.username, user.password) == 429

    assert _login_from(client, "192.0.2.1", user.username, user.password) == 200
    wrong = [_login_from(client, "192.0.2.1", user.username, "wrong-000-000") for _ in range(3)]
    assert wrong == [401, 401, 429]  # its own address's budget still holds


def test_only_a_browser_that_logged_in_to_that_account_passes_the_total_budget(
    app, client, user, user_factory, limits_on
):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL="2 per minute")
    other = user_factory()
    assert _login_from(client, "198.51.100.9", other.username, other.password) == 200
    _guess_from_many_addresses(app.test_client(), user.username, 3)

    assert _login_from(client, "192.0.2.1", user.username, user.password) == 429
    client.set_cookie("storefront_device", "forged.token.value")
    assert _login_from(client, "192.0.2.2", user.username, user.password) == 429


def test_a_password_change_moves_the_devices_mark_to_the_new_password(app, client, user, limits_on):
    """Whoever logged in with the old password cannot guess the new one from many addresses
    with the mark they earned; the browser that changed it keeps its own."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL="2 per minute")
    assert _login_from(client, "198.51.100.9", user.username, user.password) == 200
    thief = app.test_client()
    thief.set_cookie("storefront_device", client.get_cookie("storefront_device").value)
    change = {"current_password": user.password, "password": "a-brand-new-passphrase-7"}
    assert client.patch(f"/api/users/{user.id}", json=change).status_code == 200
    _guess_from_many_addresses(app.test_client(), user.username, 3)

    assert _login_from(thief, "192.0.2.7", user.username, change["password"]) == 429
    assert _login_from(client, "192.0.2.1", user.username, change["password"]) == 200


def test_a_rehash_of_the_same_password_keeps_the_devices_mark(app, client, db, user, limits_on):
    """A login rehashes the password when the hashing settings change: other browsers'
    marks stay, since the password is the same."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL="2 per minute")
    assert _login_from(client, "198.51.100.9", user.username, user.password) == 200
    stored = db.session.get(User, user.id)
    stored.password_hash = hash_password(user.password)  # the same password, a new hash
    db.session.commit()
    _guess_from_many_addresses(app.test_client(), user.username, 3)

    assert _login_from(client, "192.0.2.1", user.username, user.password) == 200


@pytest.mark.parametrize("exists", [True, False])
def test_an_unknown_spelling_does_not_tell_whether_an_account_exists(
    client, user_factory, limits_on, exists
):
    """`ſusan` casefolds to `susan` but is no spelling of it: its failures were counted in
    the bucket an unknown `susan` would use, so only a missing account answered 429."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    if exists:
        user_factory(username="susan")
    for _ in range(3):
        assert login(client, "ſusan", "wrong-password-000").status_code == 401

    assert login(client, "susan", "wrong-password-000").status_code == 401


def test_a_name_typed_in_a_login_is_not_written_to_the_log(client, limits_on, caplog):
    """A password typed into the name field would be, once its limit trips."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="1 per minute")
    caplog.set_level(logging.DEBUG)
    for _ in range(2):
        login(client, "my-Secret-Passphrase-9", "wrong-password-000")

    assert "my-Secret-Passphrase-9".lower() not in caplog.text.lower()


def test_successful_logins_do_not_use_up_the_account_limit(client, user, limits_on):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")

    for _ in range(4):
        assert login(client, user.username, user.password).status_code == 200


def test_logins_per_address_trip_at_the_configured_count(client, limits_on):
    limits_on(RATELIMIT_LOGIN_PER_IP="4 per minute")

    for n in range(4):
        assert login(client, f"nobody{n}", "wrong-password-000").status_code == 401
    _assert_limited(login(client, "nobody-else", "wrong-password-000"))


def _failed_logins_from(client, forwarded_for: str, count: int) -> list[int]:
    return [
        login(
            client, f"nobody{n}", "wrong-password-000", **{"X-Forwarded-For": forwarded_for}
        ).status_code
        for n in range(count)
    ]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(make_app):
    shop = make_app(
        TRUSTED_PROXIES=1, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_IP="2 per minute"
    )
    client = shop.test_client()

    assert _failed_logins_from(client, "203.0.113.7", 3) == [401, 401, 429]
    assert _failed_logins_from(client, "198.51.100.9", 2) == [401, 401]


def test_without_proxies_a_forged_forwarded_for_escapes_no_limit(client, limits_on):
    limits_on(RATELIMIT_LOGIN_PER_IP="2 per minute")

    assert _failed_logins_from(client, "203.0.113.7", 2) == [401, 401]
    assert _failed_logins_from(client, "198.51.100.9", 1) == [429]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::7", "2001:db8:1:2:ffff::9"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("64:ff9b::203.0.113.7", "203.0.113.7"),
    ],
    ids=["same-ipv6-64", "ipv4-mapped", "nat64"],
)
def test_addresses_of_one_visitor_share_the_address_limit(client, limits_on, first, second):
    """An IPv6 host may use any address of its /64, and a server may see an IPv4 client as
    `::ffff:a.b.c.d` (dual stack) or `64:ff9b::a.b.c.d` (NAT64): none gets a fresh budget by
    changing address, and NAT64's clients are not one visitor."""
    limits_on(RATELIMIT_LOGIN_PER_IP="2 per minute")

    assert _login_from(client, first, "nobody1", "wrong-password-000") == 401
    assert _login_from(client, second, "nobody2", "wrong-password-000") == 401
    assert _login_from(client, first, "nobody3", "wrong-password-000") == 429
    assert _login_from(client, "2001:db8:1:3::7", "nobody4", "wrong-password-000") == 401
    assert _login_from(client, "64:ff9b::198.51.100.9", "nobody5", "wrong-password-000") == 401


def test_guesses_at_one_account_from_one_ipv6_network_share_its_budget(client, user, limits_on):
    """The account's budget per address counts a /64 as one address too."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    network = ("2001:db8:1:2::7", "2001:db8:1:2::8", "2001:db8:1:2:ffff::9")

    guesses = [_login_from(client, a, user.username, "wrong-password-000") for a in network]

    assert guesses == [401, 401, 429]
    assert _login_from(client, "2001:db8:9::1", user.username, user.password) == 200


def test_successful_logins_do_not_use_up_the_address_limit(client, user, limits_on):
    """Many right logins from one address (an office, a test suite) are never a 429."""
    limits_on(RATELIMIT_LOGIN_PER_IP="2 per minute")

    for _ in range(4):
        assert login(client, user.username, user.password).status_code == 200
    for n in range(2):
        assert login(client, f"nobody{n}", "wrong-password-000").status_code == 401
    _assert_limited(login(client, user.username, user.password))


def test_login_page_and_api_share_one_account_budget(client, user, limits_on, csrf_token):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    assert login(client, user.username, "wrong-password-000").status_code == 401
    token = csrf_token(client, "/login")
    page = client.post(
        "/login",
        data={"username": user.username, "password": "nope-nope-nope", "csrf_token": token},
    )
    assert page.status_code == 401

    _assert_limited(login(client, user.username, user.password))


@pytest.mark.parametrize(
    ("budget", "wait"), [("2 per 15 minutes", "about 15 minutes"), ("2 per hour", "about 1 hour")]
)
def test_a_login_page_refused_for_too_many_attempts_says_how_long_to_wait(
    client, user, limits_on, csrf_token, budget, wait
):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT=budget)
    for _ in range(2):
        assert login(client, user.username, "wrong-password-000").status_code == 401

    token = csrf_token(client, "/login")
    page = client.post(
        "/login", data={"username": user.username, "password": user.password, "csrf_token": token}
    )

    assert page.status_code == 429
    assert f"Too many failed logins for this account. Try again in {wait}." in page.text
    assert 'href="/reset">Forgot your password?</a>' in page.get_data(as_text=True)


def test_guessing_the_current_password_spends_the_accounts_login_budget(
    client, user, login_as, limits_on, csrf_token
):
    """A stolen session must not try passwords faster than a login could."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    login_as(client, user)
    guess = {"current_password": "wrong-password-000", "password": "a-new-long-passphrase-1"}
    assert client.patch(f"/api/users/{user.id}", json=guess).status_code == 400
    token = csrf_token(client, "/account")
    form = {**guess, "password_repeat": guess["password"], "csrf_token": token}
    assert client.post("/account/password", data=form).status_code == 400
    assert login(client, user.username, "wrong-password-001").status_code == 401

    right = {**guess, "current_password": user.password}
    _assert_limited(client.patch(f"/api/users/{user.id}", json=right))
    _assert_limited(login(client, user.username, user.password))
    email_only = client.patch(f"/api/users/{user.id}", json={"email": "new-address@example.com"})
    assert email_only.status_code == 200


def test_an_empty_current_password_is_refused_without_spending_the_budget(
    client, user, login_as, limits_on, csrf_token
):
    """An empty field is a form left blank, not a guess."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    login_as(client, user)
    new = "a-new-long-passphrase-1"
    blank = {"current_password": "", "password": new, "password_repeat": new}
    blank["csrf_token"] = csrf_token(client, "/account")

    answers = [client.post("/account/password", data=blank).status_code for _ in range(4)]
    api = client.patch(f"/api/users/{user.id}", json={"current_password": "", "password": new})

    assert answers == [400] * 4
    assert api.status_code == 400
    assert login(client, user.username, user.password).status_code == 200


def test_an_unknown_names_spellings_share_one_budget(client, limits_on):
    """As a real account's do: else a 429 for `Ghost` and none for ` ghost` would tell."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    for spelling in ("Ghost", " ghost", "GHOST "):
        assert login(client, spelling, "wrong-password-000").status_code == 401

    _assert_limited(login(client, "ghost", "wrong-password-000"))


def test_registration_per_address(client, mail_outbox, limits_on):
    limits_on(RATELIMIT_REGISTER_PER_IP="2 per hour")

    assert register(client, "reg1").status_code == 201
    assert register(client, "reg2").status_code == 201
    _assert_limited(register(client, "reg3"))


def test_links_to_one_inbox_stop_at_its_budget_but_the_answer_does_not_change(
    client, user, mail_outbox, limits_on
):
    """Requests from anywhere cannot flood one inbox; the answer tells nothing either way."""
    limits_on(RATELIMIT_MAIL_PER_ADDRESS="2 per hour")
    answers = [client.post("/api/password-reset", json={"email": user.email}) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.get_data() for a in answers}) == 1
    assert len(mail_outbox.to(user.email)) == 2
    new_password = {"token": reset_token(mail_outbox, user.email), "password": "a-fresh-long-one-7"}
    assert client.post("/api/password-reset/confirm", json=new_password).status_code == 200


def test_confirmation_links_share_the_inbox_budget(client, mail_outbox, limits_on):
    limits_on(RATELIMIT_MAIL_PER_ADDRESS="1 per hour")
    assert register(client, "slowpoke").status_code == 201
    for _ in range(3):
        assert (
            client.post("/api/confirm/resend", json={"email": "slowpoke@example.com"}).status_code
            == 202
        )

    assert len(mail_outbox.to("slowpoke@example.com")) == 2  # the registration's and one more


def test_using_reset_links_counts_only_failures_apart_from_asking(client, user, limits_on):
    limits_on(RATELIMIT_RESET_PER_IP="2 per hour")
    assert client.post("/api/password-reset", json={"email": user.email}).status_code == 202
    bad = {"token": "not-a-token", "password": "a-fresh-long-one-7"}

    assert client.post("/api/password-reset/confirm", json=bad).status_code == 400
    assert client.post("/api/password-reset/confirm", json=bad).status_code == 400
    _assert_limited(client.post("/api/password-reset/confirm", json=bad))
    assert client.post("/api/password-reset", json={"email": user.email}).status_code == 202


@pytest.mark.parametrize("path", ["/api/password-reset", "/api/confirm/resend"])
def test_reset_and_resend_per_address(client, mail_outbox, limits_on, path):
    limits_on(RATELIMIT_RESET_PER_IP="2 per hour", RATELIMIT_RESEND_PER_IP="2 per hour")

    for _ in range(2):
        assert client.post(path, json={"email": "someone@example.com"}).status_code == 202
    _assert_limited(client.post(path, json={"email": "someone@example.com"}))


@pytest.mark.parametrize(
    ("path", "setting", "body", "status"),
    [
        ("/api/users", "RATELIMIT_REGISTER_PER_IP", None, 201),
        ("/api/login", "RATELIMIT_LOGIN_PER_IP", {"username": "nobody", "password": "x"}, 401),
        ("/api/password-reset", "RATELIMIT_RESET_PER_IP", {"email": "a@example.com"}, 202),
        ("/api/confirm/resend", "RATELIMIT_RESEND_PER_IP", {"email": "a@example.com"}, 202),
    ],
)
def test_malformed_bodies_are_400s_that_spend_no_attempts(
    client, mail_outbox, limits_on, path, setting, body, status
):
    limits_on(**{setting: "2 per hour"})
    for malformed in ({}, {"email": 42}, {"username": None}, {"typo": "x"}, {"password": ""}):
        assert client.post(path, json=malformed).status_code == 400

    def attempt(n: int):
        return register(client, f"reg{n}") if body is None else client.post(path, json=body)

    assert [attempt(n).status_code for n in range(2)] == [status, status]
    _assert_limited(attempt(2))
    assert client.post(path, json={"typo": "x"}).status_code == 400


def test_limits_reset_after_their_window(client, user, limits_on, monkeypatch):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    for _ in range(2):
        login(client, user.username, "wrong-password-000")
    _assert_limited(login(client, user.username, user.password))

    later = time.time() + 61
    monkeypatch.setattr("limits.storage.memory.time", SimpleNamespace(time=lambda: later))

    assert login(client, user.username, user.password).status_code == 200


def test_limits_are_off_unless_enabled(client, user):
    for _ in range(12):
        assert login(client, user.username, "wrong-password-000").status_code == 401
    assert login(client, user.username, user.password).status_code == 200


_OTHER_PROCESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from storefront import create_app
    from storefront.testing.plugin import testing_config

    settings = json.loads(sys.argv[1])
    uploads = Path(settings.pop("uploads"))
    app = create_app(testing_config(settings.pop("database_url"), uploads, **settings))
    with app.test_client() as client:
        body = {"username": "ghost", "password": "wrong-pass-00"}
        response = client.post("/api/login", json=body)
    print(response.status_code)
    """
)


def test_two_server_processes_share_the_login_limit_through_redis(
    make_app, database_url, redis_url, tmp_path, db
):
    settings = {
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"test-limits-{uuid.uuid4().hex}"},
        "RATELIMIT_LOGIN_PER_ACCOUNT": "2 per minute",
    }
    here = make_app(**settings).test_client()

    def login_elsewhere() -> int:
        payload = {**settings, "database_url": database_url, "uploads": str(tmp_path / "up")}
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _OTHER_PROCESS, json.dumps(payload)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return int(result.stdout.strip().splitlines()[-1])

    assert login(here, "ghost", "wrong-pass-00").status_code == 401
    assert login_elsewhere() == 401
    _assert_limited(login(here, "ghost", PASSWORD))
    assert login_elsewhere() == 429


def test_username_and_email_of_one_account_spend_one_failed_login_budget(client, user, limits_on):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")

    assert login(client, user.username, "wrong-password-000").status_code == 401
    assert login(client, user.username.upper(), "wrong-password-000").status_code == 401
    assert login(client, user.email.upper(), "wrong-password-000").status_code == 401

    _assert_limited(login(client, user.email, user.password))
    _assert_limited(login(client, user.username, user.password))


def test_failed_logins_answer_alike_for_existing_and_unknown_accounts(
    client, user, user_factory, limits_on
):
    """Neither the 401s nor their headers tell an attacker which names have an account, or
    that a username and an email address belong together."""
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    other = user_factory()

    def attempt(name: str):
        response = login(client, name, "wrong-password-000")
        headers = {k: v for k, v in response.headers if k not in ("Date", "X-Request-ID")}
        return response.status_code, response.get_data(), headers

    first = attempt(other.username)
    assert first[0] == 401
    assert not any(name.startswith(("X-RateLimit", "Retry-After")) for name in first[2])
    assert attempt("nobody-here") == first
    assert attempt(other.email) == first
    assert attempt("nobody-here") == first

    _assert_limited(login(client, "nobody-here", "wrong-password-000"))
    _assert_limited(login(client, other.username, "wrong-password-000"))
    assert login(client, user.username, user.password).status_code == 200


@pytest.mark.parametrize("name", ["nul\x00name", "\ud800", "x" * 300, 42, None])
def test_a_malformed_login_name_is_a_400_with_limits_on(client, limits_on, name):
    limits_on(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")

    assert login(client, name, "wrong-password-000").status_code == 400


def test_a_test_suite_is_not_one_visitor_over_its_limit_but_an_account_still_is(make_app, tmp_path):
    """Under TESTING every request comes from 127.0.0.1: the per-address limits (50
    registrations, 20 reset mails an hour) would refuse a suite's 51st user, while the
    per-account login limit, the one API.md promises, trips as in production."""
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'suite.db'}", RATELIMIT_ENABLED=True
    )
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    client = app.test_client()

    assert {register(client, f"shopper{n}").status_code for n in range(51)} == {201}
    reset = {"email": "shopper0@example.com"}
    assert {client.post("/api/password-reset", json=reset).status_code for _ in range(21)} == {202}
    wrong = [login(client, "shopper1", "wrong-password-000").status_code for _ in range(5)]
    assert wrong == [401] * 5
    _assert_limited(login(client, "shopper1", "wrong-password-000"))
