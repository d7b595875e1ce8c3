"""Who may call what: every `/api` route × every role, with the status each one gets.

`test_every_api_route_is_in_the_table` fails for a route of `app.url_map` that has no row
here (and for a row whose route is gone), so a new route cannot ship without a rule.
To add a route: append a `Route(...)` to `ROUTES` with the expected statuses (the helpers
below cover the usual patterns) and, if the request needs data, a `request` function that
takes the `World` and returns `client.open` arguments plus `values` for the path's `<...>`.
Each request is otherwise valid, so the status shows the permission decision alone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import count
from typing import Any

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from storefront.testing.factories import ProductFactory, UserFactory

ROLES = ("anonymous", "customer", "staff", "admin")
_unique = count()


def statuses(anonymous: int, customer: int, staff: int, admin: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, customer, staff, admin), strict=True))


def anyone(status: int) -> dict[str, int]:
    return statuses(status, status, status, status)


def logged_in(status: int) -> dict[str, int]:
    return statuses(401, status, status, status)


def staff_only(status: int) -> dict[str, int]:
    return statuses(401, 403, status, status)


def admin_only(status: int) -> dict[str, int]:
    return statuses(401, 403, 403, status)


def others_record_for_staff(status: int) -> dict[str, int]:
    """Someone else's private record: hidden (404) from customers, open to staff."""
    return statuses(401, 404, status, status)


def others_record_for_admin(status: int) -> dict[str, int]:
    """Someone else's account: hidden (404) from customers and staff, open to admins."""
    return statuses(401, 404, 404, status)


class World:
    """The records a request may need, made on first use inside the test's transaction.

    `me` is the user making the request (None when anonymous); `someone` is another
    customer whose private records the request tries to reach.
    """

    def __init__(self, me: Any) -> None:
        self.me = me

    @cached_property
    def someone(self) -> Any:
        return UserFactory()

    @cached_property
    def someones_session(self) -> Any:
        from storefront.extensions import db
        from storefront.sessions import UserSession

        row = UserSession(user_id=self.someone.id, sid_hash=f"perm-{next(_unique)}")
        db.session.add(row)
        db.session.commit()
        return row

    def token_for_someone(self, purpose: Any) -> str:
        from storefront.accounts.tokens import Purpose, make_token, new_nonce
        from storefront.extensions import db

        nonce = new_nonce()
        column = "confirm_nonce" if purpose is Purpose.CONFIRM else "reset_nonce"
        setattr(self.someone, column, nonce)
        db.session.commit()
        return make_token(purpose, self.someone.id, nonce)

    @cached_property
    def product(self) -> Any:
        return ProductFactory()

    @cached_property
    def product_in_my_cart(self) -> Any:
        """A product in the cart of `me` (just a product when nobody is logged in)."""
        if self.me is not None:
            from storefront.orders.service import add_to_cart

            add_to_cart(self.me, self.product.id, 1)
        return self.product

    @cached_property
    def someones_order(self) -> Any:
        from storefront.orders.service import add_to_cart, checkout

        add_to_cart(self.someone, self.product.id, 1)
        return checkout(self.someone)[0]

    @cached_property
    def someones_file(self) -> Any:
        from storefront.media.service import store_upload

        upload = FileStorage(io.BytesIO(b"plain text notes\n"), "notes.txt", "file")
        return store_upload(self.someone, upload)

    @cached_property
    def someones_image(self) -> Any:
        from storefront.media.service import store_image

        upload = FileStorage(io.BytesIO(png_bytes()), "photo.png", "file")
        return store_image(self.someone, upload)


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    expected: dict[str, int]
    request: Callable[[World], dict[str, Any]] = field(default=lambda world: {})

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.rule)


def new_product_body(world: World) -> dict[str, Any]:
    return {"json": {"sku": f"PERM-{next(_unique)}", "name": "Permission mug", "price_cents": 1}}


def new_user_body(world: World) -> dict[str, Any]:
    n = next(_unique)
    return {
        "json": {
            "username": f"perm{n}",
            "email": f"perm{n}@example.com",
            "password": "perm-strong-pass-1",
        }
    }


def _email() -> str:
    return f"perm{next(_unique)}@example.com"


def _confirm_token(world: World) -> str:
    from storefront.accounts.tokens import Purpose

    return world.token_for_someone(Purpose.CONFIRM)


def _reset_token(world: World) -> str:
    from storefront.accounts.tokens import Purpose

    return world.token_for_someone(Purpose.RESET)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "purple").save(buffer, "PNG")
    return buffer.getvalue()


def image_body(world: World) -> dict[str, Any]:
    return {
        "data": {"file": (io.BytesIO(png_bytes()), "photo.png")},
        "content_type": "multipart/form-data",
    }


def upload_body(world: World) -> dict[str, Any]:
    return {
        "data": {"file": (io.BytesIO(b"hello, permissions\n"), "hello.txt")},
        "content_type": "multipart/form-data",
    }


ROUTES = [
    # Operations and documentation
    Route("GET", "/api/openapi.json", anyone(200)),
    Route("GET", "/api/docs", anyone(200)),
    Route("GET", "/api/docs/<name>", anyone(200), lambda w: {"values": {"name": "swagger-ui.css"}}),
    # Accounts
    Route("POST", "/api/users", anyone(201), new_user_body),
    Route("GET", "/api/users", admin_only(200)),
    Route(
        "GET",
        "/api/users/<int:user_id>",
        others_record_for_admin(200),
        lambda w: {"values": {"user_id": w.someone.id}},
    ),
    Route(
        "PATCH",
        "/api/users/<int:user_id>",
        others_record_for_admin(200),
        lambda w: {
            "values": {"user_id": w.someone.id},
            "json": {"email": f"new{next(_unique)}@example.com"},
        },
    ),
    Route(
        "DELETE",
        "/api/users/<int:user_id>",
        others_record_for_admin(204),
        lambda w: {"values": {"user_id": w.someone.id}},
    ),
    Route(
        "POST",
        "/api/login",
        anyone(200),
        lambda w: {"json": {"username": w.someone.username, "password": w.someone.password}},
    ),
    Route("POST", "/api/logout", anyone(200)),
    Route("GET", "/api/me/sessions", logged_in(200)),
    Route(
        "DELETE",
        "/api/me/sessions/<int:session_id>",
        statuses(401, 404, 404, 404),  # only your own sessions, whatever your role
        lambda w: {"values": {"session_id": w.someones_session.id}},
    ),
    Route("POST", "/api/confirm", anyone(200), lambda w: {"json": {"token": _confirm_token(w)}}),
    Route("POST", "/api/confirm/resend", anyone(202), lambda w: {"json": {"email": _email()}}),
    Route("POST", "/api/password-reset", anyone(202), lambda w: {"json": {"email": _email()}}),
    Route(
        "POST",
        "/api/password-reset/confirm",
        anyone(200),
        lambda w: {"json": {"token": _reset_token(w), "password": "perm-new-password-2"}},
    ),
    Route("GET", "/api/me", logged_in(200)),
    Route("GET", "/api/protected", logged_in(200)),
    # Files
    Route("POST", "/api/upload", logged_in(201), upload_body),
    Route(
        "GET",
        "/api/files/<int:file_id>",
        others_record_for_staff(200),
        lambda w: {"values": {"file_id": w.someones_file.id}},
    ),
    Route("POST", "/api/images", logged_in(201), image_body),
    Route(
        "GET",
        "/api/files/<int:file_id>/thumbnail",
        others_record_for_staff(200),
        lambda w: {"values": {"file_id": w.someones_image.id}},
    ),
    Route(
        "DELETE",
        "/api/files/<int:file_id>",
        others_record_for_staff(204),
        lambda w: {"values": {"file_id": w.someones_file.id}},
    ),
    # Catalogue
    Route("GET", "/api/products", anyone(200)),
    Route(
        "GET",
        "/api/products/<int:product_id>",
        anyone(200),
        lambda w: {"values": {"product_id": w.product.id}},
    ),
    Route("POST", "/api/products", staff_only(201), new_product_body),
    Route(
        "PATCH",
        "/api/products/<int:product_id>",
        staff_only(200),
        lambda w: {"values": {"product_id": w.product.id}, "json": {"stock": 3}},
    ),
    Route(
        "PUT",
        "/api/products/<int:product_id>/image",
        staff_only(200),
        lambda w: {"values": {"product_id": w.product.id}, **image_body(w)},
    ),
    Route(
        "DELETE",
        "/api/products/<int:product_id>",
        staff_only(204),
        lambda w: {"values": {"product_id": w.product.id}},
    ),
    # Cart, checkout, orders
    Route("GET", "/api/cart", logged_in(200)),
    Route(
        "POST",
        "/api/cart/items",
        logged_in(200),
        lambda w: {"json": {"product_id": w.product.id, "quantity": 1}},
    ),
    Route(
        "PATCH",
        "/api/cart/items/<int:product_id>",
        logged_in(200),
        lambda w: {"values": {"product_id": w.product_in_my_cart.id}, "json": {"quantity": 2}},
    ),
    Route(
        "DELETE",
        "/api/cart/items/<int:product_id>",
        logged_in(200),
        lambda w: {"values": {"product_id": w.product_in_my_cart.id}},
    ),
    Route(
        "POST",
        "/api/cart/checkout",
        logged_in(201),
        lambda w: {"headers": {"Idempotency-Key": f"perm-{w.product_in_my_cart.id}"}},
    ),
    Route("GET", "/api/orders", logged_in(200)),
    Route(
        "GET",
        "/api/orders/<int:order_id>",
        others_record_for_staff(200),
        lambda w: {"values": {"order_id": w.someones_order.id}},
    ),
    Route(
        "POST",
        "/api/orders/<int:order_id>/cancel",
        others_record_for_staff(200),
        lambda w: {"values": {"order_id": w.someones_order.id}},
    ),
]

TABLE = {route.key: route for route in ROUTES}
_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, rule) of every `/api` route the app answers, HEAD and OPTIONS aside."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_api_route_is_in_the_table(app):
    routes = api_routes(app)
    missing = sorted(routes - TABLE.keys())
    stale = sorted(TABLE.keys() - routes)
    assert not missing, f"routes without a permission rule in tests/test_permissions.py: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"
    assert len(ROUTES) == len(TABLE), "a route is listed twice"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_route_answers_each_role_as_the_table_says(client, login_as, route, role):
    me = None
    if role != "anonymous":
        me = UserFactory(role=role)
        login_as(client, me)
    arguments = route.request(World(me))
    values = arguments.pop("values", {})
    path = _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), route.rule)

    response = client.open(path, method=route.method, **arguments)

    assert response.status_code == route.expected[role], response.get_data(as_text=True)[:300]


REFUSALS = [
    pytest.param(route, role, id=f"{route.method} {route.rule} as {role}")
    for route in ROUTES
    if route.method in ("POST", "PUT", "PATCH", "DELETE")
    for role in ROLES
    if route.expected[role] in (401, 403)
]


@pytest.mark.parametrize(("route", "role"), REFUSALS)
def test_a_refusal_comes_before_any_judgement_of_the_body(client, login_as, route, role):
    """Who may ask is decided first: a garbage body does not turn a 401/403 into a 400/415."""
    me = None
    if role != "anonymous":
        me = UserFactory(role=role)
        login_as(client, me)
    values = route.request(World(me)).get("values", {})
    path = _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), route.rule)

    response = client.open(path, method=route.method, data="garbage", content_type="text/plain")

    assert response.status_code == route.expected[role]


def test_the_openapi_document_names_each_status_of_the_table(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    undocumented = []
    for route in ROUTES:
        if route.rule in ("/api/openapi.json", "/api/docs", "/api/docs/<name>"):
            continue  # the document and its docs page do not describe themselves
        path = route.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        documented = paths[path][route.method.lower()]["responses"]
        undocumented += [
            f"{route.method} {route.rule} as {role}: {status}"
            for role, status in route.expected.items()
            if str(status) not in documented
        ]
    assert not undocumented
