"""Drive every documented operation with schemathesis and check each answer against the
document: tests/test_openapi.py (as an admin) and tests/test_api_fuzz.py (as others).

Generated requests are sent as one user, to a shop holding a few known records; what each
request changed is rolled back after it, so every request finds the same records.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from storefront.testing.plugin import login_as

#: An answer is documented, and as documented: its status, its content type, the headers
#: said to be always there, and its body's shape.
AS_DOCUMENTED = (
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
#: ... and no server error, which is what a generated request must never get.
CONFORMANCE = (not_a_server_error, *AS_DOCUMENTED)


def api_schema(app: Any) -> Any:
    """The app's OpenAPI document, as schemathesis reads it."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def session_cookies(app: Any, user_id: int | None) -> dict[str, str]:
    """The cookie of a new session of the user `user_id` (none for None), for `case.call`.

    It must go as `cookies=`: Werkzeug's test client replaces a `Cookie` header with its
    own cookie jar, empty here, so as a header it logged nobody in.
    """
    if user_id is None:
        return {}
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    return {"storefront_session": client.get_cookie("storefront_session").value}


def _png() -> bytes:
    """A small valid PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(client: Any, data: bytes, filename: str, path: str) -> int:
    files = {"file": (io.BytesIO(data), filename, "application/octet-stream")}
    response = client.post(path, data=files, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def known_records(app: Any, admin: Any, user_factory: Any, product_factory: Any) -> dict:
    """Ids for generated requests to name, by path parameter: ids drawn at random are nearly
    always a 404, and the answers of a download or a checkout would go unchecked.

    The admin owns the files, an order, a session and a cart ready for checkout. Each file
    is uploaded twice, so deleting one leaves the stored bytes its twin shares.
    """
    product = product_factory(stock=5)
    client = app.test_client()
    login_as(client, admin)
    files = [
        _upload(client, data, name, path)
        for data, name, path in [
            (_png(), "tiny.png", "/api/images"),
            (b"plain text", "notes.txt", "/api/upload"),
        ]
        for _twin in range(2)
    ]
    client.post("/api/cart/items", json={"product_id": product.id, "quantity": 1})
    order = client.post("/api/cart/checkout").get_json()["id"]
    client.post("/api/cart/items", json={"product_id": product.id, "quantity": 2})
    return {
        "product_id": [product.id],
        "file_id": files,
        "order_id": [order],
        "user_id": [user_factory().id],
        "session_id": [client.get("/api/me/sessions").get_json()[0]["id"]],
    }


@contextmanager
def rolled_back(db: Any) -> Iterator[None]:
    """Undo whatever the requests inside change, commits included (a savepoint of the
    test's connection, begun outside any of the ORM session's own)."""
    db.session.commit()
    savepoint = db.session.get_bind().begin_nested()
    try:
        yield
    finally:
        db.session.close()
        savepoint.rollback()


def _cases(operation: Any, known: dict[str, list[int]]) -> st.SearchStrategy:
    """Generated requests of `operation`, about half of them naming known records."""
    names = [parameter.name for parameter in operation.path_parameters]
    if not names or not all(known.get(name) for name in names):
        return operation.as_strategy()
    ids = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    naming_known = ids.flatmap(lambda chosen: operation.as_strategy(path_parameters=chosen))
    return st.one_of(operation.as_strategy(), naming_known)


def check_every_operation(
    app: Any, db: Any, user_id: int | None, known: dict[str, list[int]], examples: int
) -> None:
    """Send each operation `examples` generated requests as the user `user_id` (None: as
    nobody) and run the `CONFORMANCE` checks on every answer.

    They share one session: a request that ends it (a logout) is rolled back with the rest.
    """
    cookies = session_cookies(app, user_id)
    for result in api_schema(app).get_all_operations():
        operation = result.ok()

        @given(case=_cases(operation, known))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            with rolled_back(db):
                response = case.call(cookies=cookies)
                case.validate_response(response, checks=CONFORMANCE)

        answers_as_documented()
