"""The OpenAPI document tells a client the truth.

It is a valid OpenAPI 3 document, and every answer is one it describes: the status, the
content type, the headers it says are always there, and the body's shape. schemathesis
checks the answers to requests it generates from the document itself, and to the requests
below, which reach the answers generated ones seldom do.
"""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings

from api_checks import (
    AS_DOCUMENTED,
    CONFORMANCE,
    api_schema,
    check_every_operation,
    known_records,
    rolled_back,
    session_cookies,
)


def test_the_document_is_valid_openapi_3(app):
    schema = api_schema(app)
    assert schema.raw_schema["openapi"].startswith("3.")
    schema.validate()


def test_every_operation_answers_an_admin_as_documented(
    app, db, admin, user_factory, product_factory
):
    known = known_records(app, admin, user_factory, product_factory)
    check_every_operation(app, db, admin.id, known, examples=10)


def call(app, path: str, method: str, user=None, checks=CONFORMANCE, **parts):
    """Send one request to the operation at `path` as `user`, and run `checks` on the answer."""
    case = api_schema(app)[path][method].Case(**parts)
    response = case.call(cookies=session_cookies(app, None if user is None else user.id))
    case.validate_response(response, checks=checks)
    return response


def documented(app, path: str, method: str, status: int) -> dict:
    """The document's description of one answer."""
    return api_schema(app).raw_schema["paths"][path][method]["responses"][str(status)]


def required_headers(app, path: str, method: str, status: int) -> set[str]:
    """The headers the document says one answer always has."""
    headers = documented(app, path, method, status).get("headers", {})
    return {name for name, header in headers.items() if header.get("required")}


def test_the_session_cookie_is_the_documented_security_scheme(app, client, user):
    spec = api_schema(app).raw_schema
    [(name, scheme)] = spec["components"]["securitySchemes"].items()
    client.post("/api/login", json={"username": user.username, "password": user.password})
    assert client.get_cookie(scheme["name"]) is not None
    paths = spec["paths"]
    assert paths["/api/me"]["get"]["security"] == [{name: []}]
    assert paths["/api/users"]["get"]["security"] == [{name: ["admin"]}]
    assert paths["/api/products"]["post"]["security"] == [{name: ["staff", "admin"]}]
    assert "security" not in paths["/api/products"]["get"]


def _uploaded_text_file(client, user, login_as) -> int:
    """The id of a small text file `user` has just uploaded."""
    login_as(client, user)
    files = {"file": (io.BytesIO(b"plain text"), "notes.txt", "text/plain")}
    return client.post("/api/upload", data=files).get_json()["id"]


def test_a_download_and_its_304_are_as_documented(app, client, user, login_as):
    where = {"path_parameters": {"file_id": _uploaded_text_file(client, user, login_as)}}

    download = call(app, "/api/files/{file_id}", "GET", user, **where)
    assert download.status_code == 200
    assert download.headers["content-type"] == ["text/plain; charset=utf-8"]
    etag = download.headers["etag"][0]
    again = call(app, "/api/files/{file_id}", "GET", user, headers={"If-None-Match": etag}, **where)
    assert again.status_code == 304
    assert again.content == b""


def test_a_deletion_answers_no_content_and_names_no_content_type(app, client, user, login_as):
    where = {"path_parameters": {"file_id": _uploaded_text_file(client, user, login_as)}}

    deleted = call(app, "/api/files/{file_id}", "DELETE", user, **where)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert "content-type" not in deleted.headers
    assert "content" not in documented(app, "/api/files/{file_id}", "delete", 204)


def test_a_checkout_short_of_stock_and_a_replayed_one_are_as_documented(
    app, db, client, user, login_as, product_factory
):
    product = product_factory(stock=1)
    login_as(client, user)
    client.post("/api/cart/items", json={"product_id": product.id, "quantity": 1})
    product.stock = 0
    db.session.commit()

    short = call(app, "/api/cart/checkout", "POST", user, headers={"Idempotency-Key": "k 1"})
    assert short.status_code == 409
    assert [line["product_id"] for line in short.json()["items"]] == [product.id]
    assert "items" in str(documented(app, "/api/cart/checkout", "post", 409)["content"])

    product.stock = 1
    db.session.commit()
    placed = call(app, "/api/cart/checkout", "POST", user, headers={"Idempotency-Key": "k 1"})
    replayed = call(app, "/api/cart/checkout", "POST", user, headers={"Idempotency-Key": "k 1"})
    assert {"Location"} == required_headers(app, "/api/cart/checkout", "post", 201)
    assert "Idempotent-Replayed" in documented(app, "/api/cart/checkout", "post", 201)["headers"]
    assert "idempotent-replayed" not in placed.headers
    assert replayed.headers["idempotent-replayed"] == ["true"]
    assert replayed.json()["id"] == placed.json()["id"]


def test_a_rate_limited_answer_says_when_to_come_back(app, client, monkeypatch):
    """(The `client` fixture starts the rate limits' counts afresh.)"""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "RATELIMIT_RESET_PER_IP", "1 per minute")
    body = {"email": "someone@example.com"}
    statuses = [call(app, "/api/password-reset", "POST", body=body).status_code for _ in "ab"]
    assert statuses == [202, 429]
    assert "Retry-After" in required_headers(app, "/api/password-reset", "post", 429)


def test_a_shop_without_its_database_says_when_to_come_back(make_app, tmp_path):
    gone = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")
    for path in ("/api/products", "/readyz"):
        assert call(gone, path, "GET", checks=AS_DOCUMENTED).status_code == 503
    assert "Retry-After" in required_headers(gone, "/api/products", "get", 503)


def test_a_body_over_the_size_limit_is_a_documented_413(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    body = {"sku": "BIG-1", "name": "x" * 200, "price_cents": 100}
    assert call(app, "/api/products", "POST", staff, body=body).status_code == 413


def test_every_idempotency_key_the_document_allows_is_taken(
    app, db, client, user, login_as, product_factory
):
    product = product_factory(stock=5)
    login_as(client, user)
    client.post("/api/cart/items", json={"product_id": product.id, "quantity": 1})
    checkout = api_schema(app)["/api/cart/checkout"]["POST"]
    cookies = session_cookies(app, user.id)

    @given(case=checkout.as_strategy())
    @settings(
        max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def taken(case):
        with rolled_back(db):
            assert case.call(cookies=cookies).status_code == 201, case.headers

    taken()


def test_openapi_lists_every_api_route(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint.startswith(("openapi.", "apidocs.")):
            continue  # the document and its docs page do not describe themselves
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_openapi_marks_request_bodies_required(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["paths"]["/api/users"]["post"]["requestBody"]["required"] is True


def test_openapi_takes_no_server_from_the_first_visitors_host(make_app):
    """The document is built once and kept: a forged Host must not reach later visitors."""
    client = make_app().test_client()
    client.get("/api/openapi.json", headers={"Host": "evil.example"})
    spec = client.get("/api/openapi.json").get_json()
    assert "evil.example" not in str(spec.get("servers"))


def test_openapi_describes_errors_as_they_are_sent(client):
    spec = client.get("/api/openapi.json").get_json()
    answer = client.post("/api/users", json={"username": 42})
    for name in ("HTTPError", "ValidationError"):
        schema = spec["components"]["schemas"][name]
        assert set(answer.get_json()) <= set(schema["properties"])
        assert schema["required"] == ["error"]


def test_openapi_documents_the_headers_lists_and_creations_send(client, product_factory):
    product_factory()
    spec = client.get("/api/openapi.json").get_json()
    listed = client.get("/api/products")
    documented = spec["paths"]["/api/products"]["get"]["responses"]["200"]["headers"]
    assert {"X-Total-Count", "Link"} <= set(documented) & set(listed.headers.keys())
    created = spec["paths"]["/api/users"]["post"]["responses"]["201"]["headers"]
    assert "Location" in created
    timestamp = spec["components"]["schemas"]["ProductOut"]["properties"]["created_at"]
    assert timestamp["format"] == "date-time"


#: The statuses API.md names for each route; the OpenAPI document must name them too.
CONTRACT = {
    ("post", "/api/users"): {201, 400, 409, 429},
    ("get", "/api/users/{user_id}"): {200, 404},
    ("patch", "/api/users/{user_id}"): {200, 400, 409},
    ("post", "/api/login"): {200, 400, 401, 403, 429},
    ("get", "/api/protected"): {200, 401},
    ("post", "/api/confirm"): {200, 400},
    ("post", "/api/confirm/resend"): {202, 429},
    ("post", "/api/password-reset"): {202, 429},
    ("post", "/api/password-reset/confirm"): {200, 400},
    ("get", "/api/products/{product_id}"): {200, 404},
    ("post", "/api/products"): {201, 409},
    ("post", "/api/cart/items"): {200, 400, 404, 409},
    ("patch", "/api/cart/items/{product_id}"): {200, 404, 409},
    ("delete", "/api/cart/items/{product_id}"): {200, 404},
    ("post", "/api/cart/checkout"): {201, 400, 409},
    ("get", "/api/orders/{order_id}"): {200, 404},
    ("post", "/api/orders/{order_id}/cancel"): {200, 409},
    ("post", "/api/upload"): {201, 400, 413, 415},
    ("post", "/api/images"): {201, 400, 413, 415},
    ("get", "/api/files/{file_id}"): {200, 304},
}


def test_openapi_names_the_statuses_of_the_contract(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for (method, path), statuses in CONTRACT.items():
        documented = {int(status) for status in paths[path][method]["responses"]}
        assert statuses <= documented, (method, path, statuses - documented)


def test_openapi_shows_patch_fields_as_not_nullable(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    for name in ("ProductUpdate", "UserUpdate"):
        for field, schema in schemas[name]["properties"].items():
            assert "null" not in str(schema), (name, field)
            assert schema.get("type") in {"string", "integer", "boolean"}, (name, field)
