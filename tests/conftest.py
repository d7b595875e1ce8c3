"""The shop's own pytest plugin gives the fixtures (`app`, `client`, `db`, factories...)."""

import pkgutil
import socket

import pytest

from storefront import init_rate_limits

pytest_plugins = ["storefront.testing.plugin", "storefront.testing.browser", "pytester"]


@pytest.fixture
def shopper(client, login_as, user):
    """A customer logged in on `client` (the cart, checkout and order tests' buyer)."""
    login_as(client, user)
    return user


@pytest.fixture
def checked_too_early(monkeypatch):
    """Make a service's check or look-up find nothing the first time it runs, as if another
    request's write landed just after it: the database's unique index then decides, as in a
    real race."""

    def miss_once(target: str) -> None:
        real = pkgutil.resolve_name(target)
        calls = 0

        def check(*args, **kwargs):
            nonlocal calls
            calls += 1
            return real(*args, **kwargs) if calls > 1 else None

        monkeypatch.setattr(target, check)

    return miss_once


@pytest.fixture(scope="session")
def dead_redis_url():
    """A Redis that is down: a port this run holds without listening, so every connection
    to it is refused (a fixed port might be some other server's)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{held.getsockname()[1]}/0"


@pytest.fixture
def own_apps(app):
    """For a test that builds apps with `create_app` itself: the one rate limiter follows
    the last app built, so it is given back to the session's `app` afterwards, even when
    the test fails (`make_app` does the same for the apps it builds)."""
    yield
    init_rate_limits(app)
