"""Every bad input gets a clear JSON error under /api, never a 500."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storefront.catalog import service as catalog_service
from storefront.extensions import db
from storefront.testing.factories import ProductFactory
from storefront.testing.plugin import make_database_url

VALID = {"username": "carol", "email": "carol@example.com", "password": "a-long-enough-password"}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("null", "application/json", 400),
        ("", "application/json", 400),
        ("username=x&password=y", "application/x-www-form-urlencoded", 415),
        ('{"username": "x"}', "text/plain", 415),
        ('{"username": "x"}', "application/merge-patch+json", 415),
        ('{"username": "x"}', "application/json; charset=latin-1", 415),
        ('{"username": "x"}'.encode("utf-16"), "application/json; charset=utf-16", 415),
        ('{"username": "x"}'.encode("utf-16"), "application/json", 400),
        ('{"username": "x"}'.encode("utf-32-le"), "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400),  # nested past recursion
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "application/json", 400),
    ],
)
def test_malformed_bodies(client, data, content_type, status):
    response = client.post("/api/users", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.is_json
    assert isinstance(response.get_json()["error"], str)


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", "Application/JSON"])
def test_json_that_names_its_utf8_charset_or_another_case_is_read(client, content_type):
    body = json.dumps({**VALID, "password": "ein längeres Passwort"}, ensure_ascii=False)
    response = client.post("/api/users", data=body.encode(), content_type=content_type)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["username"] == VALID["username"]


def test_a_field_given_twice_is_refused_not_guessed(client, db, user, login_as, product_factory):
    lamp = product_factory(name="Lamp")
    login_as(client, user)
    client.post("/api/cart/items", json={"product_id": lamp.id, "quantity": 2})

    response = client.patch(
        f"/api/cart/items/{lamp.id}",
        data='{"quantity": 1, "quantity": 0}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "The request body gives the field 'quantity' more than once.",
        "fields": {"quantity": "given more than once"},
    }
    assert client.get("/api/cart").get_json()["items"][0]["quantity"] == 2


def test_a_field_given_twice_with_one_value_is_refused_too(client):
    body = '{"username": "carol", "username": "carol", "email": "c@example.com", "password": "x"}'
    response = client.post("/api/users", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"username": "given more than once"}


def test_an_upload_part_named_twice_unreadably_is_a_400(client, user, login_as):
    """Werkzeug names a part whose name it cannot read (a line break in it) `None`."""
    login_as(client, user)
    part = '--b\r\nContent-Disposition: form-data; name="a\nb"\r\n\r\nx\r\n'
    body = (
        part * 2
        + '--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nx\r\n--b--\r\n'
    )
    response = client.post("/api/upload", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400
    assert "more than once" in response.get_json()["error"]


def test_a_key_given_twice_in_a_nested_object_is_refused(client):
    body = '{"username": {"a": 1, "a": 2}, "email": "c@example.com", "password": "x"}'
    response = client.post("/api/users", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "The request body gives the field 'a' more than once."


def test_json_null_is_answered_as_not_an_object(client):
    response = client.post("/api/users", data="null", content_type="application/json")
    assert response.get_json()["error"] == "The request body must be a JSON object."


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"idempotency_key": "k"}', "application/json", 400),
        ("hello", "text/plain", 415),
        ("[]", "application/json", 400),
        ("{oops", "application/json", 400),
    ],
)
def test_a_route_taking_no_body_refuses_one(client, user, login_as, data, content_type, status):
    login_as(client, user)
    response = client.post("/api/logout", data=data, content_type=content_type)
    assert response.status_code == status
    assert client.get("/api/me").status_code == 200  # still logged in: nothing ran
    if "idempotency_key" in data:
        assert response.get_json()["fields"] == {"idempotency_key": "unknown field"}


def test_a_route_taking_no_body_accepts_none_or_an_empty_object(client, user, login_as):
    login_as(client, user)
    assert client.post("/api/logout", json={}).status_code == 200
    login_as(client, user)
    assert client.post("/api/logout").status_code == 200
    login_as(client, user)
    assert (
        client.post("/api/logout", data="\r\n", content_type="application/json").status_code == 200
    )


def test_a_body_sent_to_no_route_is_a_404(client):
    assert client.post("/api/nothing-here", data="x", content_type="text/plain").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nickname": "carl"}, "nickname"),
        ({"username": 42}, "username"),
        ({"username": True}, "username"),
        ({"username": None}, "username"),
        ({"username": ["a"]}, "username"),
        ({"username": "x" * 65}, "username"),
        ({"username": "nul\u0000byte"}, "username"),
        ({"email": "a" * 300 + "@example.com"}, "email"),
        ({"password": {"nested": 1}}, "password"),
        ({"password": "x" * 10_000}, "password"),
    ],
)
def test_invalid_fields_are_named(client, change, field):
    response = client.post("/api/users", json={**VALID, **change})
    assert response.status_code == 400
    assert field in response.get_json()["fields"]


def test_a_validator_message_comes_without_pydantic_prefix(client):
    response = client.post("/api/login", json={"username": "nul\u0000byte", "password": "x"})
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"username": "must not contain NUL characters"}
    assert "Value error" not in response.get_json()["error"]


def test_a_flood_of_unknown_fields_gets_a_short_answer(client):
    flood = {**VALID, **{f"extra{number}": 1 for number in range(5000)}}
    response = client.post("/api/users", json=flood)
    assert response.status_code == 400
    fields = response.get_json()["fields"]
    assert len(fields) == 50
    assert set(fields.values()) == {"unknown field"}
    assert len(response.data) < 5000


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/api/users", '{{"{name}": 1}}'),
        ("/api/users", '{{"{name}": 1, "{name}": 2}}'),
        ("/api/logout", '{{"{name}": 1}}'),
        ("/api/logout", "{{" + ", ".join(f'"{{name}}{n}": 1' for n in range(200)) + "}}"),
    ],
    ids=["unknown", "given twice", "no body wanted", "many, no body wanted"],
)
def test_a_huge_field_name_is_named_by_its_start_only(client, path, data):
    name = "k" * 4000
    response = client.post(path, data=data.format(name=name), content_type="application/json")
    assert response.status_code == 400
    named = [field for field in response.get_json()["fields"] if field.startswith("k")]
    assert 1 <= len(named) <= 50
    assert all(field == "k" * 64 + "…" for field in named)
    assert len(response.data) < 50_000


def test_lone_surrogate_is_refused(client):
    body = '{"username": "\\ud800abc", "email": "carol@example.com", "password": "long-password-1"}'
    response = client.post("/api/users", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "username" in response.get_json()["fields"]


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.is_json


@pytest.mark.parametrize("path", ["/api//products", "/api/products//1", "/api/products/%2F1"])
def test_a_path_with_doubled_slashes_is_a_json_404_not_a_redirect_page(client, path):
    for method in (client.get, client.post, client.delete):
        response = method(path)
        assert response.status_code == 404, (method, response.status_code)
        assert response.is_json


def test_wrong_method_is_json_405_with_allow(client):
    response = client.put("/api/login", json={})
    assert response.status_code == 405
    assert response.is_json
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("user_id", [2**31, 2**64, -1])
def test_id_too_big_for_the_database_is_404_for_every_method(client, admin, login_as, user_id):
    login_as(client, admin)
    for method in (client.get, client.delete, client.patch):
        response = method(f"/api/users/{user_id}", json={})
        assert response.status_code == 404, method
        assert response.is_json


@pytest.mark.parametrize("path", ["/products/{}", "/api/products/{}"])
def test_id_with_more_digits_than_python_converts_is_404(client, path):
    for digits in ("9" * 5000, "0" * 5000 + "1"):
        assert client.get(path.format(digits)).status_code == 404


@pytest.mark.parametrize("path", ["/products/{}", "/api/products/{}"])
def test_an_id_in_another_scripts_digits_is_404(client, product_factory, path):
    product = product_factory()
    fullwidth = "".join(chr(ord("\uff10") + int(d)) for d in str(product.id))  # ０-９
    assert client.get(path.format(product.id)).status_code == 200
    assert client.get(path.format(fullwidth)).status_code == 404


def test_body_over_the_size_limit_is_json_413(client, app, user, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/api/users", data="x" * 5000, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json


#: How a server hands on a body sent with `Transfer-Encoding: chunked`: no Content-Length.
CHUNKED = {
    "headers": {"Transfer-Encoding": "chunked"},
    "environ_overrides": {"wsgi.input_terminated": True},
}


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"sku": "BIG-1", "name": "Big", "price_cents": 1, "description": "a" * 2000}),
        json.dumps({"sku": "BIG-2", "name": "Big", "price_cents": 1}) + " " * 2000,
    ],
    ids=["cut-short-json", "cut-off-whitespace"],
)
def test_a_chunked_body_over_the_size_limit_is_a_413_not_read_cut_short(
    client, app, staff, login_as, monkeypatch, body
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    login_as(client, staff)
    response = client.post("/api/products", data=body, content_type="application/json", **CHUNKED)
    assert response.status_code == 413
    assert response.is_json
    assert client.get("/api/products").headers["X-Total-Count"] == "0"


def test_a_chunked_body_of_exactly_the_size_limit_is_read(
    client, app, staff, login_as, monkeypatch
):
    body = json.dumps({"sku": "FITS", "name": "Fits", "price_cents": 1})
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", len(body))
    login_as(client, staff)
    response = client.post("/api/products", data=body, content_type="application/json", **CHUNKED)
    assert response.status_code == 201, response.get_json()


class _MalformedChunks:
    """A request body as gunicorn reads one sent with a malformed chunk size."""

    def read(self, *args):
        raise RuntimeError("Invalid chunk size: 'zz'")

    readline = read


@pytest.mark.parametrize(
    ("path", "data", "content_type"),
    [
        ("/api/login", b'{"username": "a"}', "application/json"),
        ("/login", b"username=a", "application/x-www-form-urlencoded"),
        ("/form", b"name=a", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_the_server_cannot_read_is_a_400_not_a_bug(client, caplog, path, data, content_type):
    response = client.post(
        path,
        data=data,
        content_type=content_type,
        environ_overrides={"wsgi.input": _MalformedChunks()},
    )

    assert response.status_code == 400
    said = "The request body could not be read: it is malformed or was cut short."
    if path.startswith("/api/"):
        assert response.get_json() == {"error": said}
    else:
        assert said in response.get_data(as_text=True)
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("compressed", [True, False], ids=["gzipped", "labelled-only"])
def test_a_compressed_body_is_a_415(client, staff, login_as, compressed):
    """The shop reads bodies as they are sent: one that says it is gzipped is refused,
    not read as JSON (a puzzling "not valid UTF-8", or a body taken at its word's opposite)."""
    login_as(client, staff)
    body = json.dumps({"sku": "GZ", "name": "Gzipped", "price_cents": 1}).encode()
    response = client.post(
        "/api/products",
        data=gzip.compress(body) if compressed else body,
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 415
    assert "Content-Encoding" in response.get_json()["error"]
    assert client.get("/api/products").headers["X-Total-Count"] == "0"


def test_options_names_the_allowed_methods_without_a_body(client):
    response = client.options("/api/products")

    assert response.status_code == 204
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST", "OPTIONS"}
    assert "Content-Type" not in response.headers
    assert response.data == b""


@pytest.mark.parametrize("coding", ["gzip, chunked", "deflate", "chunked, chunked, x"])
def test_a_transfer_coding_other_than_chunked_is_a_501(client, staff, login_as, coding):
    login_as(client, staff)

    response = client.post(
        "/api/cart/items",
        json={"product_id": 1, "quantity": 1},
        headers={"Transfer-Encoding": coding},
    )

    assert response.status_code == 501
    assert response.get_json() == {"error": "Only the chunked transfer coding is understood."}


def test_cross_site_origin_is_refused(client, user):
    login = {"username": user.username, "password": user.password}
    evil = client.post("/api/login", json=login, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    same = client.post("/api/login", json=login, headers={"Origin": "http://localhost"})
    assert same.status_code == 200


@pytest.mark.parametrize(("proxies", "status"), [(1, 200), (0, 403)])
def test_behind_a_trusted_proxy_the_origin_is_checked_against_the_forwarded_host(
    make_app, proxies, status
):
    """The browser's site is the proxy's public name, not the address the proxy calls."""
    client = make_app(TRUSTED_PROXIES=proxies).test_client()
    response = client.post(
        "/api/logout",
        base_url="http://127.0.0.1:8000",
        headers={
            "Origin": "https://shop.example",
            "X-Forwarded-Host": "shop.example",
            "X-Forwarded-Proto": "https",
        },
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    ("origin", "status"), [("http://shop.example", 403), ("https://shop.example", 200)]
)
def test_a_page_on_plain_http_may_not_write_to_the_shop_on_https(client, user, origin, status):
    """Schemes differ, so sites do: a page served over http (an attacker on the network may
    answer for it) must not use the https shop's cookie."""
    login = {"username": user.username, "password": user.password}
    https = "https://shop.example"
    assert client.post("/api/login", json=login, base_url=https).status_code == 200

    response = client.post("/api/logout", base_url=https, headers={"Origin": origin})

    assert response.status_code == status


@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "https://[bad]:x", "null"])
def test_an_origin_that_is_no_url_is_refused_as_cross_site(client, origin):
    response = client.post("/api/logout", headers={"Origin": origin})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Cross-site request refused."}


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Storefront" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "host",
    ["a..b", "x" * 300, "shop." + "x" * 64 + ".example", "a b", "host/path", "é.com", "h:abc"],
)
@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/api/products", "/api/nope"])
def test_a_host_header_that_is_no_host_name_is_a_400(client, user, login_as, host, path):
    login_as(client, user)
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.get_json() == {"error": "The Host header does not name a valid host."}
    else:
        assert response.mimetype == "text/html"
        assert "The Host header does not name a valid host." in response.get_data(as_text=True)


@pytest.mark.parametrize("host", ["web_app:8000", "my_host", ""])
def test_a_host_werkzeug_cannot_use_is_answered_with_relative_links(client, product_factory, host):
    """Underscores are no host name's, but Docker services are named so (health checks)."""
    product_factory()

    response = client.get("/api/products", headers={"Host": host})

    assert response.status_code == 200
    assert response.headers["Link"].startswith("</api/products?")
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_a_browser_on_a_host_werkzeug_cannot_use_may_still_write(client, user):
    """Its `Origin` names the host as sent; Werkzeug's own reading of it is empty."""
    headers = {"Host": "web_app:8000", "Origin": "http://web_app:8000"}
    body = {"username": user.username, "password": user.password}

    assert client.post("/api/login", json=body, headers=headers).status_code == 200
    other = {"Host": "web_app:8000", "Origin": "http://evil.example"}
    assert client.post("/api/login", json=body, headers=other).status_code == 403


@pytest.mark.parametrize("host", ["xn--a", "xn--80akhbyknj4f.xn--p1ai", "xn--ls8h:8080"])
def test_an_international_host_in_punycode_gets_links_in_punycode(live_server, host):
    """Links were built on the host turned into Unicode: an invalid punycode label was a
    500, and a valid one a `Link` header no server could send. (Over real HTTP: the test
    client itself decodes the host.)"""
    with live_server.app.app_context():
        ProductFactory()

    response = requests.get(f"{live_server.url}/api/products", headers={"Host": host}, timeout=30)

    assert response.status_code == 200
    assert response.headers["Link"].startswith(f"<http://{host}/api/products?")
    assert response.headers["Link"].isascii()


def test_a_form_posted_with_a_host_that_is_no_host_name_is_a_400_page(client):
    response = client.post("/form", data={"name": "Ann"}, headers={"Host": "a..b"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_a_bug_answers_500_with_request_id_and_logs_it(make_app, db, caplog):
    app = make_app()

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret detail")

    caplog.set_level(logging.ERROR, logger="storefront.errors")
    response = app.test_client().get("/api/boom")
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error", "request_id": request_id}
    assert "secret detail" not in response.get_data(as_text=True)
    assert any(request_id in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("path", ["/confirm", "/reset"])
def test_tokens_in_links_never_reach_the_log(client, caplog, path):
    caplog.set_level(logging.DEBUG)
    token = "eyJ1c2VyIjo0Mn0.secret-part-of-the-link"
    client.get(f"{path}/{token}")
    assert f"GET {path}/[token] 400" in caplog.text
    assert "secret-part-of-the-link" not in caplog.text


def test_every_request_is_logged_with_an_id(client, caplog):
    caplog.set_level(logging.INFO, logger="storefront.request")
    response = client.get("/healthz")
    request_id = response.headers["X-Request-ID"]
    line = next(r.getMessage() for r in caplog.records if request_id in r.getMessage())
    assert "GET /healthz 200" in line


@pytest.mark.parametrize(("proxies", "handed_on"), [(0, False), (1, True)])
def test_a_request_id_is_taken_from_a_trusted_proxy_only(make_app, proxies, handed_on):
    """A client could otherwise give its requests the id of another's logged error."""
    shop = make_app(TRUSTED_PROXIES=proxies)

    response = shop.test_client().get("/healthz", headers={"X-Request-ID": "from-the-proxy-1"})

    assert (response.headers["X-Request-ID"] == "from-the-proxy-1") is handed_on


def test_a_path_cannot_forge_a_line_of_the_log(client, caplog):
    caplog.set_level(logging.INFO, logger="storefront.request")
    forged = "request_id=forged POST /api/login 200 1.0ms"
    client.get("/x%0d%0a" + forged.replace(" ", "%20"), headers={"X-Request-ID": "a\tb"})
    lines = [r.getMessage() for r in caplog.records if r.name == "storefront.request"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0] and "\t" not in lines[0]
    assert "GET /x%0D%0Arequest_id=forged%20POST%20/api/login" in lines[0]


#: Make every UPDATE of `users` fail inside the database, as a lost connection would.
BREAK_USER_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER refuse_user_updates BEFORE UPDATE ON users BEGIN SELECT no_such_fn(); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'refused' USING ERRCODE = 'XX000'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_user_updates BEFORE UPDATE ON users "
        "FOR EACH ROW EXECUTE FUNCTION refuse_update()",
    ],
}


def test_a_failing_statement_logs_no_password_hash(client, db, user, login_as, caplog):
    login_as(client, user)
    client.get("/api/me")
    for statement in BREAK_USER_UPDATES[db.engine.dialect.name]:
        db.session.execute(text(statement))
    caplog.set_level(logging.DEBUG)

    response = client.patch(
        f"/api/users/{user.id}",
        json={"password": "a-new-password-for-the-log", "current_password": user.password},
    )

    assert response.status_code in (500, 503)
    assert "UPDATE users" in caplog.text
    assert "$argon2" not in caplog.text
    assert "a-new-password-for-the-log" not in caplog.text


UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"


def _assert_login_catalogue_and_page_say_come_back(client):
    """A login, the catalogue and the shop's page are each a 503 with a Retry-After."""
    login = client.post("/api/login", json={"username": "ada", "password": "long-password-1"})
    products = client.get("/api/products")
    page = client.get("/")

    for response in (login, products, page):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
    return login, products, page


def test_an_unreachable_database_is_a_503_not_a_bug(make_app, caplog):
    client = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE).test_client()
    caplog.set_level(logging.ERROR, logger="storefront.errors")

    login, _, page = _assert_login_catalogue_and_page_say_come_back(client)

    assert "unavailable" in login.get_json()["error"]
    assert login.get_json()["request_id"] == login.headers["X-Request-ID"]
    assert "unavailable" in page.get_data(as_text=True)
    assert "database unavailable" in caplog.text


def test_a_database_without_the_schema_is_a_503_not_a_bug(make_app, tmp_path, caplog):
    """`init-db` not run yet: SQLite says "no such table", PostgreSQL "relation does not
    exist" (another exception class); both are an unusable database, never a 500."""
    app = make_app(SQLALCHEMY_DATABASE_URI=make_database_url(tmp_path, "unmigrated"))
    client = app.test_client()
    caplog.set_level(logging.ERROR, logger="storefront.errors")

    _, products, _ = _assert_login_catalogue_and_page_say_come_back(client)

    assert "unavailable" in products.get_json()["error"]
    assert "database not set up, run `storefront init-db`" in caplog.text
    assert "Traceback" not in caplog.text  # one line a request, naming the missing table
    assert "unhandled error" not in caplog.text


def test_a_session_cookie_with_the_database_down_is_a_503_not_a_crash(make_app):
    """The database store is read while Flask opens the session, before any error handler."""
    client = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE, PROPAGATE_EXCEPTIONS=False).test_client()
    client.set_cookie("storefront_session", "a-session-id-from-before")

    for path in ("/", "/api/me"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
    assert client.get("/healthz").status_code == 200


def test_a_form_sent_while_the_session_store_is_down_is_a_503_not_an_expired_form(make_app):
    """The CSRF check reads its token from the session: it must not run on the empty one that
    stands in for a store that failed, and call the form expired."""
    client = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE, PROPAGATE_EXCEPTIONS=False).test_client()
    client.set_cookie("storefront_session", "a-session-id-from-before")

    response = client.post("/form", data={"csrf_token": "x", "name": "Ada", "email": "a@b.example"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-Request-ID"]


def _redis_settings(**overrides):
    """Settings of a shop on Redis whose keys no other test or run shares, and which expire
    within the hour (the test Redis may be shared, and is never flushed)."""
    return {
        "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "SESSION_LIFETIME_SECONDS": 3600,
        "PROPAGATE_EXCEPTIONS": False,
        **overrides,
    }


def _assert_unavailable(response, *, api: bool) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:200]
    assert response.headers["Retry-After"] == "1"
    assert response.is_json is api
    assert "unavailable" in response.get_data(as_text=True)


def test_redis_going_down_is_a_503_not_a_bug(make_app, redis_url, dead_redis_url, db, user, caplog):
    settings = _redis_settings()
    alive = make_app(REDIS_URL=redis_url, **settings).test_client()
    body = {"username": user.username, "password": user.password}
    assert alive.post("/api/login", json=body).status_code == 200
    down = make_app(REDIS_URL=dead_redis_url, **settings)
    logged_in, visitor = down.test_client(), down.test_client()
    logged_in.set_cookie("storefront_session", alive.get_cookie("storefront_session").value)
    caplog.set_level(logging.ERROR, logger="storefront.errors")

    _assert_unavailable(logged_in.get("/api/me"), api=True)
    _assert_unavailable(logged_in.get("/cart"), api=False)
    _assert_unavailable(logged_in.post("/api/logout"), api=True)
    _assert_unavailable(visitor.post("/api/login", json=body), api=True)
    _assert_unavailable(visitor.get("/login"), api=False)  # stores its CSRF token after the view
    assert "Redis unavailable" in caplog.text
    assert logged_in.get("/healthz").status_code == 200
    assert visitor.get("/api/products").status_code == 200  # a visitor's read needs no session
    assert visitor.get("/").status_code == 200
    assert visitor.post("/api/logout").json == {"message": "Logged out"}


def test_rate_limited_routes_are_a_503_while_redis_is_down(make_app, dead_redis_url, db, user):
    shop = make_app(REDIS_URL=dead_redis_url, **_redis_settings(RATELIMIT_ENABLED=True))
    client = shop.test_client()

    _assert_unavailable(client.post("/api/password-reset", json={"email": user.email}), api=True)
    _assert_unavailable(client.post("/api/confirm/resend", json={"email": user.email}), api=True)
    _assert_unavailable(client.post("/api/users", json=VALID), api=True)


def test_a_redis_that_stops_answering_is_a_503_within_seconds(make_app, db, user):
    """A Redis that accepts connections but never replies (hung, or a dropped network)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        client = make_app(
            REDIS_URL=f"redis://127.0.0.1:{port}/0", **_redis_settings()
        ).test_client()
        client.set_cookie("storefront_session", "a-session-id-from-before")
        answers: list = []
        asking = threading.Thread(target=lambda: answers.append(client.get("/api/me")))
        asking.start()
        asking.join(timeout=30)  # redis-py waits forever without a timeout of its own

    assert len(answers) == 1
    _assert_unavailable(answers[0], api=True)


def _request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "storefront.request"]


def test_a_session_store_failing_as_the_answer_is_saved_is_one_503_line_in_the_log(
    make_app, dead_redis_url, caplog
):
    """The login page stores its CSRF token after the view: the 200 it made becomes a 503."""
    caplog.set_level(logging.INFO)
    response = make_app(REDIS_URL=dead_redis_url, **_redis_settings()).test_client().get("/login")

    _assert_unavailable(response, api=False)
    request_id = response.headers["X-Request-ID"]
    [line] = _request_lines(caplog)
    assert line.startswith(f"request_id={request_id} GET /login 503 ")
    assert "Exception on" not in caplog.text  # Flask's own report: the handler logs it


def test_the_time_logged_for_a_request_includes_opening_its_session(make_app, caplog, monkeypatch):
    shop = make_app()
    opening = shop.session_interface.open_session

    def slow_to_open(*args):
        time.sleep(0.3)
        return opening(*args)

    monkeypatch.setattr(shop.session_interface, "open_session", slow_to_open)
    caplog.set_level(logging.INFO)
    shop.test_client().get("/api/products")

    [line] = _request_lines(caplog)
    assert float(line.rsplit(" ", 1)[1].removesuffix("ms")) >= 300


def test_an_error_finishing_the_answer_to_a_link_is_logged_without_its_token(
    make_app, caplog, monkeypatch
):
    shop = make_app(PROPAGATE_EXCEPTIONS=False)

    def fail(*args):
        raise RuntimeError("the answer could not be finished")

    monkeypatch.setattr(shop.session_interface, "save_session", fail)
    caplog.set_level(logging.INFO)
    response = shop.test_client().get("/confirm/a-live-token-of-someone")

    assert response.status_code == 500
    assert "a-live-token-of-someone" not in caplog.text
    request_id = response.headers["X-Request-ID"]
    assert caplog.text.count(f"unhandled error (request_id={request_id})") == 1  # one report
    assert [line.split(" ")[3] for line in _request_lines(caplog)] == ["500"]


def test_a_broken_constraint_escaping_a_view_is_a_bug_not_an_outage(client, monkeypatch, caplog):
    """Only a database file SQLite cannot read is "unavailable" among plain database errors:
    an integrity error nothing handled is a bug, answered 500 and logged with its id."""

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(catalog_service, "catalogue_page", broken)

    response = client.get("/api/products")

    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal error",
        "request_id": response.headers["X-Request-ID"],
    }
    assert f"unhandled error (request_id={response.headers['X-Request-ID']})" in caplog.text


def test_a_name_the_code_gets_wrong_on_a_migrated_database_is_a_logged_bug(
    client, monkeypatch, caplog
):
    """Not "run init-db", which could not help: the traceback says where the code is wrong."""

    def misspelt(*args, **kwargs):
        return db.session.execute(text("SELECT nme FROM products")).all()

    monkeypatch.setattr(catalog_service, "catalogue_page", misspelt)

    response = client.get("/api/products")

    assert response.status_code == 500
    assert f"unhandled error (request_id={response.headers['X-Request-ID']})" in caplog.text
    assert "init-db" not in caplog.text
