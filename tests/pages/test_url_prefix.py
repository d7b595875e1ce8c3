"""The shop mounted under a path (a WSGI server's SCRIPT_NAME, a proxy's X-Forwarded-Prefix):
every link, form and redirect a visitor follows stays under that path."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import quote

import pytest

PREFIX = "/shop"
#: Every address a page hands the browser: links, pictures, scripts, stylesheets, forms.
_ADDRESS = re.compile(r'\b(?:href|src|action)="([^"]*)"')
#: How far the crawl goes: enough for every page the navigation and the pager reach.
MAX_PAGES = 60


@pytest.fixture
def mounted(app, client, monkeypatch):
    """`client`, its requests reaching the shop as a server mounting it at `PREFIX` sends
    them: the prefix in SCRIPT_NAME, the rest of the path in PATH_INFO."""
    shop = app.wsgi_app

    def under_prefix(environ, start_response):
        environ["SCRIPT_NAME"] = PREFIX
        return shop(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", under_prefix)
    return client


def _local_addresses(html: str) -> list[str]:
    """The page's addresses that point into this site (not fragments, not other sites)."""
    return [
        address.replace("&amp;", "&")
        for address in _ADDRESS.findall(html)
        if address and not address.startswith(("#", "http://", "https://", "data:", "mailto:"))
    ]


def _crawl(client, start: list[str]) -> tuple[set[str], list[str]]:
    """Visit the pages reachable from `start` by GET links; return them and every address
    or Location seen that is not under `PREFIX`."""
    seen: set[str] = set()
    stray: list[str] = []
    queue = deque(start)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        found = [response.headers["Location"]] if "Location" in response.headers else []
        if response.mimetype == "text/html":
            found += _local_addresses(response.get_data(as_text=True))
        for address in found:
            if address != PREFIX and not address.startswith(PREFIX + "/"):
                stray.append(f"{path} -> {address}")
                continue
            inside = address.removeprefix(PREFIX) or "/"
            if not inside.startswith(("/static/", "/media/", "/api/", "/logout")):
                queue.append(inside)
    return seen, stray


def test_anonymous_pages_link_only_under_the_prefix(mounted, product_factory):
    product = product_factory()
    product_factory.create_batch(14)

    seen, stray = _crawl(mounted, ["/", f"/products/{product.id}", "/cart", "/nowhere"])

    assert stray == []
    assert {"/login", "/register", "/?page=2"} <= seen


@pytest.mark.parametrize("who", ["user", "staff"])
def test_logged_in_pages_link_only_under_the_prefix(
    request, mounted, login_as, product_factory, who
):
    product_factory.create_batch(3)
    login_as(mounted, request.getfixturevalue(who))

    seen, stray = _crawl(mounted, ["/", "/cart", "/orders", "/account", "/staff/products"])

    assert stray == []
    assert {"/cart", "/orders", "/account"} <= seen


def test_a_login_asked_for_under_the_prefix_returns_there(mounted, user, csrf_token):
    asked = mounted.get("/orders")
    assert asked.headers["Location"] == f"{PREFIX}/login?next=/orders"

    data = {
        "username": user.username,
        "password": user.password,
        "csrf_token": csrf_token(mounted, "/login?next=/orders"),
    }
    response = mounted.post("/login?next=/orders", data=data)

    assert response.status_code == 303
    assert response.headers["Location"] == f"{PREFIX}/orders"


@pytest.mark.parametrize("target", ["/../orders", "/%2e%2e/orders", "/./../orders", "/.%2E/"])
def test_a_login_never_returns_to_a_page_outside_the_prefix(mounted, user, csrf_token, target):
    """Browsers resolve `/shop/../orders` (and its `%2e` spelling) to `/orders`."""
    asked = f"/login?next={quote(target, safe='')}"
    data = {
        "username": user.username,
        "password": user.password,
        "csrf_token": csrf_token(mounted, asked),
    }

    response = mounted.post(asked, data=data)

    assert response.status_code == 303
    assert response.headers["Location"] == f"{PREFIX}/"


def test_logging_out_under_the_prefix_returns_to_its_shop(mounted, user, login_as, csrf_token):
    login_as(mounted, user)

    response = mounted.post("/logout", data={"csrf_token": csrf_token(mounted, "/logout")})

    assert response.headers["Location"] == f"{PREFIX}/"


@pytest.mark.parametrize(
    ("referrer", "then"),
    [(f"{PREFIX}/cart", f"?next={quote('/cart')}"), (f"{PREFIX}x/cart", "")],
    ids=["the-shops-page", "a-path-merely-starting-like-it"],
)
def test_a_form_sent_after_logging_out_returns_to_its_page_under_the_prefix(
    mounted, product_factory, user, login_as, csrf_token, referrer, then
):
    kettle = product_factory()
    login_as(mounted, user)
    stale = csrf_token(mounted, "/cart")
    mounted.post("/logout", data={"csrf_token": csrf_token(mounted, "/logout")})

    response = mounted.post(
        f"/cart/add/{kettle.id}",
        data={"quantity": "1", "csrf_token": stale},
        headers={"Referer": f"http://localhost{referrer}"},
    )

    assert response.headers["Location"] == f"{PREFIX}/login{then}"


def test_the_api_points_an_unconfirmed_login_at_the_resend_address_under_the_prefix(
    mounted, user_factory
):
    waiting = user_factory(confirmed=False)

    response = mounted.post(
        "/api/login", json={"username": waiting.username, "password": waiting.password}
    )

    assert response.status_code == 403
    assert response.json["resend_url"] == f"{PREFIX}/api/confirm/resend"
