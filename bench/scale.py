"""Scale-out check: two Storefront instances sharing one PostgreSQL and one Redis.

Checks that what one instance knows the other knows too: a login on A is valid on B, a
logout on B ends the session on A, a login rate limit tripped on A holds on B, and 20
buyers racing across both instances for 5 units place exactly 5 orders. Then it compares
the throughput of one instance with two. On a 2-core machine two instances cannot be
faster than one (they share the same cores): the figures show correctness, not speed.

`--short` (used by .ci/run) keeps the throughput runs to one second each.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dataset
import harness

DATABASE_NAME = "storefront_bench_scale"
PASSWORD = "scale-check-password"  # noqa: S105 - a fixture of this check, not a secret
#: Cheap argon2 on both instances and in-process, so logging 20 buyers in takes no time.
CHEAP_HASHING = {
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_COST": "1024",
    "PASSWORD_HASH_PARALLELISM": "1",
}
BUYERS = 20
UNITS = 5
RATE_LIMIT_ATTEMPTS = 60


@dataclass
class Check:
    name: str
    passed: bool | None
    detail: str

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "NOT RUN"}[self.passed]


@dataclass
class Cluster:
    a: harness.Server
    b: harness.Server
    app: Any
    users: list[str]


def log_in(server: harness.Server, username: str, password: str = PASSWORD) -> harness.Answer:
    return harness.http(
        "POST", server.url + "/api/login", json_body={"username": username, "password": password}
    )


def logged_in_cookie(server: harness.Server, username: str) -> str:
    answer = log_in(server, username)
    cookie = harness.session_cookie(answer)
    if answer.status != 200 or cookie is None:
        raise AssertionError(f"login of {username} on {server.name} gave {answer.status}")
    return cookie


def check_session_shared(cluster: Cluster) -> Check:
    """A login on A is valid on B; a logout on B ends the session on A too."""
    username = cluster.users[0]
    cookie = logged_in_cookie(cluster.a, username)
    on_b = harness.http("GET", cluster.b.url + "/api/me", cookie=cookie)
    if on_b.status != 200 or on_b.json().get("username") != username:
        return Check("login on A is valid on B", False, f"B answered {on_b.status}")
    logout = harness.http("POST", cluster.b.url + "/api/logout", cookie=cookie, json_body={})
    after_a = harness.http("GET", cluster.a.url + "/api/me", cookie=cookie)
    after_b = harness.http("GET", cluster.b.url + "/api/me", cookie=cookie)
    passed = logout.status == 200 and after_a.status == 401 and after_b.status == 401
    return Check(
        "login on A valid on B; logout on B ends it on A",
        passed,
        f"B /api/me {on_b.status}; logout on B {logout.status}; "
        f"then A /api/me {after_a.status}, B /api/me {after_b.status}",
    )


def check_rate_limit_shared(cluster: Cluster) -> Check:
    """Wrong passwords on A until it answers 429; then B must refuse the right one with 429."""
    username = cluster.users[1]
    attempts = 0
    while attempts < RATE_LIMIT_ATTEMPTS:
        attempts += 1
        if log_in(cluster.a, username, "wrong-password").status == 429:
            break
    else:
        return Check(
            "login rate limit tripped on A holds on B",
            False,
            f"A never answered 429 in {RATE_LIMIT_ATTEMPTS} wrong logins",
        )
    on_b = log_in(cluster.b, username)
    return Check(
        "login rate limit tripped on A holds on B",
        on_b.status == 429 and on_b.header("Retry-After") is not None,
        f"A: 429 after {attempts} wrong logins; B with the right password: {on_b.status}",
    )


def check_checkout_race(cluster: Cluster) -> Check:
    """20 buyers, half on each instance, check out the last 5 units at the same moment."""
    name = f"{BUYERS} buyers on A and B race for {UNITS} units"
    with cluster.app.app_context():
        first, _ = dataset.add_products(1)
        dataset.set_stock(first, UNITS)
    buyers = cluster.users[2 : 2 + BUYERS]
    servers = [cluster.a if n % 2 == 0 else cluster.b for n in range(BUYERS)]
    cookies = [logged_in_cookie(s, u) for s, u in zip(servers, buyers, strict=True)]
    for server, cookie in zip(servers, cookies, strict=True):
        added = harness.http(
            "POST",
            server.url + "/api/cart/items",
            cookie=cookie,
            json_body={"product_id": first, "quantity": 1},
        )
        if added.status != 200:
            return Check(name, False, f"adding to a cart gave {added.status}: {added.body[:200]}")
    start = threading.Barrier(BUYERS)

    def buy(n: int) -> int:
        start.wait()
        return harness.http(
            "POST", servers[n].url + "/api/cart/checkout", cookie=cookies[n], json_body={}
        ).status

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        statuses = list(pool.map(buy, range(BUYERS)))
    stock = harness.http("GET", cluster.a.url + f"/api/products/{first}").json()["stock"]
    placed = statuses.count(201)
    refused = statuses.count(409)
    orders = sum(
        len(harness.http("GET", cluster.b.url + "/api/orders", cookie=cookie).json())
        for cookie in cookies
    )
    return Check(
        name,
        placed == UNITS and refused == BUYERS - UNITS and stock == 0 and orders == UNITS,
        f"{placed} × 201, {refused} × 409, other {sorted(set(statuses) - {201, 409})}; "
        f"stock left {stock}; orders listed {orders}",
    )


def throughput(cluster: Cluster, seconds: float) -> dict[str, float] | None:
    """req/s of one instance alone, then of both at once (one wrk per instance).

    None when wrk is missing and cannot be installed: the checks above still count.
    """
    try:
        harness.ensure_wrk()
    except (SystemExit, OSError) as error:
        print(f"throughput not measured: {error}")
        return None
    path = "/api/products/1" if route_exists(cluster, "GET", "/api/products/1") else "/healthz"

    def drive(server: harness.Server) -> float:
        return harness.run_wrk(server.url + path, duration=seconds, connections=4).rps

    one = drive(cluster.a)
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = sum(pool.map(drive, (cluster.a, cluster.b)))
    print(f"throughput of GET {path}: one instance {one:.0f} req/s, two instances {both:.0f} req/s")
    return {"one": one, "two": both}


def route_exists(cluster: Cluster, method: str, path: str) -> bool:
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    try:
        cluster.app.url_map.bind("127.0.0.1").match(path, method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def guarded(check: Callable[[Cluster], Check], cluster: Cluster) -> Check:
    """Run a check; an unexpected exception is that check's failure, not the end of the run."""
    try:
        return check(cluster)
    except Exception as error:  # noqa: BLE001 - reported as the check's failure
        return Check(check.__name__, False, f"{type(error).__name__}: {error}")


def flush_redis(url: str) -> None:
    from redis import Redis

    client = Redis.from_url(url)
    client.ping()
    client.flushdb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1-second throughput runs")
    parser.add_argument("--duration", type=float, default=3)
    options = parser.parse_args(argv)
    seconds = 1 if options.short else options.duration

    flush_redis(harness.REDIS_URL)
    url = harness.fresh_postgres_database(DATABASE_NAME)
    secret = secrets.token_urlsafe(48)
    cheap = {key: int(value) for key, value in CHEAP_HASHING.items()}
    app = dataset.shop_app(url, secret, REDIS_URL=harness.REDIS_URL, **cheap)
    dataset.migrate(app)
    with app.app_context():
        users = dataset.add_users(2 + BUYERS, password=PASSWORD)
        if "products" in dataset.db.metadata.tables:
            dataset.add_products(100)
    usernames = [dataset.USERNAME_PATTERN % n for n in range(users[0], users[1] + 1)]
    env = harness.shop_environment(
        url,
        SECRET_KEY=secret,
        REDIS_URL=harness.REDIS_URL,
        RATELIMIT_ENABLED="1",
        # The per-address budget would be spent by logging the buyers in from 127.0.0.1;
        # the per-account limit is the one checked.
        RATELIMIT_LOGIN_PER_IP="1000 per minute",
        **CHEAP_HASHING,
    )
    log_dir = harness.new_log_dir("scale")
    checks: list[Check] = []
    with (
        harness.Server("instance-a", "storefront.wsgi:app", env, log_dir).start() as a,
        harness.Server("instance-b", "storefront.wsgi:app", env, log_dir).start() as b,
    ):
        cluster = Cluster(a, b, app, usernames)
        print(f"instance A {a.url}, instance B {b.url}; Redis {harness.REDIS_URL}")
        checks.append(guarded(check_session_shared, cluster))
        if "RATELIMIT_LOGIN_PER_ACCOUNT" in app.config:
            checks.append(guarded(check_rate_limit_shared, cluster))
        else:
            checks.append(Check("login rate limit", None, "no login rate limit on main yet"))
        if route_exists(cluster, "POST", "/api/cart/checkout"):
            checks.append(guarded(check_checkout_race, cluster))
        else:
            checks.append(Check("checkout race", None, "no checkout route on main yet"))
        figures = throughput(cluster, seconds)
    with app.app_context():
        dataset.db.engine.dispose()
    harness.drop_postgres_database(DATABASE_NAME)
    for check in checks:
        print(f"{check.verdict:<7} {check.name}: {check.detail}")
    if figures:
        print(
            f"one instance {figures['one']:.0f} req/s, two {figures['two']:.0f} req/s "
            "(2 shared cores: this shows correctness, not speed)"
        )
    print(f"server logs: {log_dir}")
    failed = [c for c in checks if c.passed is False]
    not_run = [c for c in checks if c.passed is None]
    print(
        f"scale check summary: {len(checks) - len(failed) - len(not_run)} PASS, "
        f"{len(failed)} FAIL, {len(not_run)} NOT RUN"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    start = time.monotonic()
    status = main()
    print(f"scale check took {time.monotonic() - start:.0f} s")
    sys.exit(status)
