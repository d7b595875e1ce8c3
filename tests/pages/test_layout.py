"""The layout, the friendly error pages and the security headers every page carries."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

from storefront.auth import role_required


def test_every_page_links_its_own_stylesheet_and_icon_and_no_cdn(client):
    html = client.get("/form").get_data(as_text=True)

    assert 'href="/static/style.css"' in html
    assert 'href="/static/favicon.svg"' in html
    assert "http://" not in html and "https://" not in html
    for asset in ("/static/style.css", "/static/favicon.svg"):
        with client.get(asset) as response:
            assert response.status_code == 200


def test_pages_send_security_headers(client):
    response = client.get("/form")

    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives.get("style-src", "")
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin"}


def test_answers_that_are_no_page_run_nothing_if_opened_as_one(client, user, login_as):
    """JSON, static and uploaded files: opened on their own in a browser, as a page."""
    login_as(client, user)
    upload = client.post(
        "/api/upload",
        data={"file": (io.BytesIO(b"<script>alert(1)</script>\n"), "a.txt")},
        content_type="multipart/form-data",
    )

    for path in ("/api/products", "/static/style.css", upload.get_json()["url"], "/api/nope"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert policy == "default-src 'none'; frame-ancestors 'none'; sandbox", path


def test_https_answers_ask_browsers_to_keep_to_https(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()

    secure = client.get("/", headers={"X-Forwarded-Proto": "https"})
    plain = client.get("/")

    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers


def test_logged_in_answers_are_not_stored_by_browsers_or_proxies(client, user, login_as):
    assert "Cache-Control" not in client.get("/").headers
    login_as(client, user)

    for path in ("/account", "/api/me", "/"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_an_answer_that_needs_no_login_does_not_vary_on_the_cookie(
    client, user, login_as, product_factory
):
    """Touching the session marks it used, and Flask-Session then adds `Vary: Cookie`: no
    shared cache could keep the public catalogue for every visitor."""
    product_factory()
    assert "Vary" not in client.get("/api/products").headers
    login_as(client, user)

    answer = client.get("/api/products")

    assert "Vary" not in answer.headers
    assert "Cache-Control" not in answer.headers


def test_an_unknown_page_is_a_friendly_404_inside_the_layout(client):
    response = client.get("/no-such-page")

    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "We could not find that page" in html
    assert "There is nothing at this address." in html
    assert "If you entered the URL manually" not in html
    assert 'class="site-header"' in html and "Back to the shop" in html


def test_a_page_of_many_forms_repeats_no_element_id(app, client, csrf_token, user):
    """Each form carries a CSRF token: rendered with its default `id="csrf_token"`, the
    account page (two forms and a sign-out button per session) held that id five times."""
    phone = app.test_client()
    phone.post("/api/login", json={"username": user.username, "password": user.password})
    token = csrf_token(client, "/login")
    client.post(
        "/login", data={"username": user.username, "password": user.password, "csrf_token": token}
    )

    html = client.get("/account").get_data(as_text=True)

    repeated = {name for name, n in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if n > 1}
    assert html.count('name="csrf_token"') >= 5
    assert repeated == set()


def test_an_unknown_api_path_stays_json(client):
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.is_json


def test_a_page_that_needs_a_login_sends_visitors_to_log_in(make_app, app):
    shop = make_app()

    @shop.get("/members")
    @role_required("customer")
    def members():
        return "members only"

    response = shop.test_client().get("/members?tab=1")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/members%3Ftab%3D1"


@pytest.mark.parametrize(
    "path", ["/cart", "/checkout", "/orders", "/orders/1", "/account", "/staff/products"]
)
def test_head_on_a_page_behind_a_login_redirects_to_log_in_as_get_does(client, path):
    response = client.head(path)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={path}"
    assert response.data == b""


def test_a_forbidden_page_is_a_friendly_403(make_app, app, user_factory, login_as):
    shop = make_app()

    @shop.get("/back-office")
    @role_required("staff")
    def back_office():
        return "staff only"

    client = shop.test_client()
    login_as(client, user_factory())
    response = client.get("/back-office")

    assert response.status_code == 403
    assert "This page is not open to you" in response.get_data(as_text=True)


def test_a_crash_is_a_friendly_500_with_a_reference_and_no_details(make_app, app, caplog):
    shop = make_app()

    @shop.get("/crash")
    def crash():
        raise RuntimeError("secret internals")

    response = shop.test_client().get("/crash")

    html = response.get_data(as_text=True)
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and request_id in html
    assert "secret internals" not in html
    assert "<title>500 Something went wrong on our side · Storefront</title>" in html
    assert 'class="site-header"' in html
    assert request_id in caplog.text


@pytest.mark.parametrize("path", ["/login", "/register", "/form", "/reset"])
def test_a_form_page_is_a_503_when_the_database_is_down(make_app, app, path):
    """These pages store a new session (their CSRF token) after the view, as Flask finishes."""
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    shop = make_app(SQLALCHEMY_DATABASE_URI=unreachable, PROPAGATE_EXCEPTIONS=False)

    response = shop.test_client().get(path)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "database is unavailable" in response.get_data(as_text=True)


@pytest.mark.parametrize(("environment", "secure"), [("production", True), ("development", False)])
def test_the_session_cookie_is_secure_outside_development(make_app, app, environment, secure):
    shop = make_app(TESTING=False, STOREFRONT_ENV=environment)

    response = shop.test_client().get("/form")

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("storefront_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure
