"""What the OpenAPI document says beyond what APIFlask derives from the routes.

APIFlask documents bodies, outputs, 400s for inputs and 404s for path ids. The rest of each
route's answers follows from facts this module reads off the views and the request guard
(`apikit.guard_api_request`): who may call it (the session cookie, and the roles), the body
it takes, the request size limit and the shop's one error shape; lists carry their
pagination headers, creations their `Location`, and refusals to come back later their
`Retry-After`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from apiflask import APIFlask
from flask import Response, json, request

from .apikit import UNSAFE_METHODS, declared_body
from .auth import ROLES

#: The one shape of every `/api` error (errors.py); APIFlask's default would be wrong.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, as a sentence."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Why each named field was refused.",
        },
        "request_id": {"type": "string", "description": "With 500 and 503: the log's id."},
    },
}

#: Where APIFlask puts `ERROR_SCHEMA` in the document.
ERROR_REF = "#/components/schemas/HTTPError"

#: The security scheme of every route with a role rule: the login's session cookie.
SESSION_SCHEME = "session"

PAGE_HEADERS = {
    "X-Total-Count": {
        "description": "How many items all pages hold.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "Link": {
        "description": "RFC 8288 links to the first, prev, next and last pages.",
        "required": True,
        "schema": {"type": "string"},
    },
}
LOCATION_HEADER = {
    "Location": {
        "description": "URL of the new resource.",
        "required": True,
        "schema": {"type": "string"},
    }
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def init_openapi(app: APIFlask) -> None:
    """Describe errors with the shop's shape and complete every route's answers.

    The document names no server: APIFlask would take it from the Host header of the
    request that first builds the document, and keep it for everyone after (a forged Host
    would send the docs page's "Try it out" requests elsewhere). Without one, clients use
    the host they fetched the document from; a shop mounted under a path names that path.
    """
    app.config["AUTO_SERVERS"] = False
    app.config["SPEC_DECORATORS"] = [_name_the_mount]
    app.config["HTTP_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["VALIDATION_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["SECURITY_SCHEMES"] = {
        SESSION_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config["SESSION_COOKIE_NAME"],
            "description": "The session cookie `POST /api/login` sets.",
        }
    }

    @app.spec_processor
    def complete_answers(spec: dict[str, Any]) -> dict[str, Any]:
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/"):
                continue
            view = app.view_functions[rule.endpoint]
            item = spec["paths"].get(_openapi_path(rule.rule), {})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                operation = item.get(method.lower())
                if operation is not None:
                    _complete(operation, method, view)
        return spec


def _name_the_mount(spec_view: Callable[[], Response]) -> Callable[[], Response]:
    """Under a URL prefix, the document's server is that path: with no server named,
    clients send the requests to the host's root, outside the shop."""

    @wraps(spec_view)
    def spec() -> Response:
        response = spec_view()
        if request.script_root:
            document = response.get_json()
            document["servers"] = [{"url": request.script_root}]
            response.set_data(json.dumps(document))
        return response

    return spec


def _openapi_path(rule: str) -> str:
    return rule.replace("<int:", "{").replace("<", "{").replace(">", "}")


def _complete(operation: dict[str, Any], method: str, view: Any) -> None:
    responses = operation["responses"]
    body = declared_body(view)
    if body is not None:
        operation["requestBody"]["required"] = True
    rule = getattr(view, "access_check", None)
    if rule is not None:
        operation["security"] = [{SESSION_SCHEME: _restricted_to(rule.roles)}]
    for status, reason in _shared_answers(method, view, body).items():
        responses.setdefault(str(status), _error(reason))
    ok = responses.get("200", {})
    if method == "GET" and _schema(ok).get("type") == "array":
        _add_headers(ok, PAGE_HEADERS)
    if "201" in responses:
        _add_headers(responses["201"], LOCATION_HEADER)
    for status in ("429", "503"):
        if status in responses:
            _add_headers(responses[status], RETRY_AFTER_HEADER)


def _restricted_to(roles: tuple[str, ...]) -> list[str]:
    """The roles a route is limited to, as OpenAPI 3.1 lets a security requirement name
    them; none when any logged-in user may call it."""
    return [] if set(roles) == set(ROLES) else list(roles)


def _add_headers(response: dict[str, Any], headers: dict[str, Any]) -> None:
    """Add `headers` to those a route already documents for this answer (its own win)."""
    response["headers"] = {**headers, **response.get("headers", {})}


def _shared_answers(method: str, view: Any, body: str | None) -> dict[int, str]:
    """The statuses a route gives whatever it does: from the guard, its role rule and the
    request size limit (Werkzeug refuses a body over `MAX_CONTENT_LENGTH` once it is read,
    and the guard reads the body of every unsafe request)."""
    answers: dict[int, str] = {}
    rule = getattr(view, "access_check", None)
    roles = rule.roles if rule is not None else None
    if roles is not None:
        answers[401] = "Not logged in."
    if roles is not None and set(roles) != set(ROLES):
        answers[403] = f"Only for {', '.join(roles)} (or a cross-site request)."
    elif method in UNSAFE_METHODS:
        answers[403] = "A cross-site request (its Origin names another site)."
    if body is not None:
        answers[415] = f"The body is not {body}."
    elif method in UNSAFE_METHODS:
        answers[400] = "This route takes no body (or `{}`), and one was sent."
        answers[415] = "This route takes no body, and one that is not JSON was sent."
    if method in UNSAFE_METHODS:
        answers[413] = "The request is larger than the server takes (`MAX_CONTENT_LENGTH`)."
    answers[503] = "The database is unavailable or busy: retry after Retry-After seconds."
    if body == "multipart/form-data":
        answers[503] += " Or the file storage would not take the bytes (a full disk)."
    return answers


def _error(reason: str) -> dict[str, Any]:
    return {
        "description": reason,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def error_answer(reason: str, **keys: dict[str, Any]) -> dict[str, Any]:
    """An error answer (for a route's `@bp.doc(responses=...)`) whose body has `keys` besides
    the shop's error shape, such as the `items` a conflict names."""
    extra = {"type": "object", "properties": keys}
    return {
        "description": reason,
        "content": {"application/json": {"schema": {"allOf": [{"$ref": ERROR_REF}, extra]}}},
    }


def _schema(response: dict[str, Any]) -> dict[str, Any]:
    return response.get("content", {}).get("application/json", {}).get("schema", {})
