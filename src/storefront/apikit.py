"""What every `/api` route shares: strict request models, the JSON guard and pagination."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Response, abort, current_app, request, url_for
from flask.json.provider import DefaultJSONProvider
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from sqlalchemy import Select
from werkzeug.exceptions import RequestEntityTooLarge

from .extensions import db

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The highest `?page=` a list reads, API and pages alike.
MAX_PAGE = 1_000_000
#: Ids are `INTEGER` columns: 32-bit on PostgreSQL, so a bigger path id must be a 404,
#: not an "integer out of range" error from the database.
MAX_ID = 2**31 - 1


def is_row_id(value: Any) -> bool:
    """True for a value that can be a database id: an int (not a bool) from 1 to MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


class ApiError(Exception):
    """An expected failure a service reports; errors.py turns it into `{"error": ...}`."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.extra = extra


class Conflict(ApiError):
    """A duplicate, not enough stock, or a state that does not allow the change (409)."""

    status = 409


class InputModel(BaseModel):
    """A request body: unknown fields are refused and no type is silently coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


def without_null(schema: dict[str, Any]) -> None:
    """Document each optional field with its own type: `null` is not accepted (a PATCH body),
    or cannot be sent at all (a header)."""
    for field in schema.get("properties", {}).values():
        types = [option for option in field.pop("anyOf", []) if option.get("type") != "null"]
        if len(types) == 1:
            field.update(types[0])
        elif types:
            field["anyOf"] = types
        field.pop("default", None)


class UpdateModel(InputModel):
    """A PATCH body: every field optional, and one sent as `null` is refused rather than
    silently ignored or erased, so a client never believes it cleared a field."""

    model_config = ConfigDict(json_schema_extra=without_null)

    @field_validator("*", mode="before")
    @classmethod
    def refuse_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class OutputModel(BaseModel):
    """A response body built from ORM objects or dicts.

    Its OpenAPI schema describes what is sent, not what would be accepted: computed fields
    such as `url` are listed, and every key is required because every answer carries it.
    """

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_mode_override="serialization",
        json_schema_serialization_defaults_required=True,
    )


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


#: A timestamp answered as ISO 8601 in UTC, e.g. `2026-11-23T10:00:00Z`.
Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def readable_size(size: int) -> str:
    """A byte count as people read it, never above it: `10 MB`, `9.9 MB`, `512 KB`, `1 byte`
    (1 MB = 1024 × 1024 bytes)."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{math.floor(size * 10 / scale) / 10:g} {unit}"
    return f"{size} byte" + ("" if size == 1 else "s")


def shows_something(text: str) -> bool:
    """False for text with nothing to read: spaces, line breaks or invisible characters only."""
    return any(char.isprintable() and not char.isspace() for char in text)


def _refuse_blank(value: str) -> str:
    if not shows_something(value):
        raise ValueError("must not be blank")
    return value


#: What a field error says instead of pydantic's "String should match pattern '<regex>'".
PATTERN_MESSAGES: dict[str, str] = {}


def Text(  # noqa: N802
    max_length: int,
    min_length: int = 0,
    pattern: tuple[str, str] | None = None,
    *,
    blank: bool = True,
) -> Any:
    """A string field of bounded length that PostgreSQL and SQLite can both store.

    `pattern` is a regex and what to tell someone whose text does not match it (the regex
    stays in the OpenAPI document). `blank=False` refuses text that shows nothing, for
    names people must be able to read.
    """
    regex = None
    if pattern is not None:
        regex, says = pattern
        key = f"String should match pattern '{regex}'"
        if PATTERN_MESSAGES.setdefault(key, says) != says:
            raise ValueError(f"{regex!r} has a message already: give one regex one message")
    checks = [AfterValidator(_clean_text)] + ([] if blank else [AfterValidator(_refuse_blank)])
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length, pattern=regex),
        *checks,
    ]


def _digits_only(value: Any) -> Any:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number, in digits")
    return value


#: A number in a query string, written in digits: pydantic alone also reads `1_0` as 10,
#: `+1`, ` 1` and `100.0`, so one page would have many addresses.
QueryInt = Annotated[int, BeforeValidator(_digits_only)]


class PageQuery(BaseModel):
    """`?page=` and `?per_page=`, shared by every list."""

    model_config = ConfigDict(extra="ignore")

    page: QueryInt = Field(1, ge=1, le=MAX_PAGE)
    per_page: QueryInt = Field(20, ge=1, le=100)


def paginate(statement: Select, query: PageQuery) -> tuple[list[Any], int]:
    """One page of `statement` and the total row count (two SQL statements, whatever the size)."""
    page = db.paginate(
        statement, page=query.page, per_page=query.per_page, error_out=False, count=True
    )
    return list(page.items), page.total or 0


def page_count(total: int, per_page: int) -> int:
    """How many pages a list of `total` items fills; an empty list still has its page 1."""
    return max(1, -(-total // per_page))


def page_headers(total: int, query: PageQuery) -> dict[str, str]:
    """`X-Total-Count` and an RFC 8288 `Link` header with first, prev, next and last.

    The links are this URL with the client's query string copied as it came (only `page`
    and `per_page` set): passed to `url_for`, a parameter such as `_external` or `_method`
    would be read as one of its options.
    """
    last = page_count(total, query.per_page)
    args = request.args.copy()
    # Not `request.base_url`: it turns a punycode host into Unicode, which no header holds.
    # A host Werkzeug cannot use (`web_app`, or none sent) leaves the links relative.
    origin = f"{request.scheme}://{request.host}" if request.host else ""
    base = f"{origin}{quote(request.root_path + request.path)}"

    def link(page: int, rel: str) -> str:
        args["page"] = str(page)
        args["per_page"] = str(query.per_page)
        return f'<{base}?{urlencode(list(args.items(multi=True)))}>; rel="{rel}"'

    links = [link(1, "first")]
    if query.page > 1:
        links.append(link(min(query.page - 1, last), "prev"))
    if query.page < last:
        links.append(link(query.page + 1, "next"))
    links.append(link(last, "last"))
    return {"X-Total-Count": str(total), "Link": ", ".join(links)}


def created_headers(endpoint: str, **values: Any) -> dict[str, str]:
    """The `Location` header of a 201 answer."""
    return {"Location": url_for(endpoint, **values)}


def declared_body(view: Callable[..., Any] | None) -> str | None:
    """The content type the view declares for its body, if any."""
    spec = getattr(view, "_spec", None) or {}
    return spec.get("content_type") if "body" in spec else None


class DuplicateKeyError(ValueError):
    """A JSON object naming one key twice: which of its values counts would be a guess
    (`{"quantity": 1, "quantity": 0}` silently removed a cart line)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body = dict(pairs)
    if len(body) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return body


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with answers in their schema's key order (`id` first), and a body
    nested too deeply to parse, naming a key twice or not in UTF-8 refused like any other
    malformed JSON (a 400, not a 500 or a guess).
    """

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if isinstance(s, bytes):
            # JSON travels in UTF-8 (RFC 8259); `json.loads` would guess UTF-16 or UTF-32.
            s = s.decode("utf-8-sig")
        if "object_hook" not in kwargs:
            kwargs.setdefault("object_pairs_hook", _refuse_duplicate_keys)
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def guard_api_request() -> None:
    """Refuse, before any view runs, what no `/api` route accepts.

    Cross-site unsafe requests are 403: an `Origin` naming another site, or `null` (a
    sandboxed frame, a file, a page behind a cross-site redirect: none of them ours). Then
    a protected route's 401/403 comes before any judgement of the body. A route with a JSON
    body gets a JSON object or a 400/415; a route taking files gets multipart or 415; a
    route taking no body gets none (or `{}`). A compressed body is a 415 on every route.
    """
    if not request.path.startswith("/api/") or request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    # The host as sent when Werkzeug cannot use it (`web_app:8000`): its own answer is "".
    host = request.host or request.headers.get("Host", "")
    if origin and not _from_this_site(origin, host):
        abort(403, description="Cross-site request refused.")
    if request.url_rule is None:  # no such route: the 404 or 405 says so
        return
    view = current_app.view_functions.get(request.endpoint or "")
    getattr(view, "access_check", lambda: None)()  # who may ask comes before what they sent
    if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        # A gzipped body was read as it came: a puzzling "not valid UTF-8" (RFC 9110: 415).
        raise ApiError("The request body must not be compressed (Content-Encoding).", status=415)
    codings = request.headers.get("Transfer-Encoding", "").lower().replace(" ", "").split(",")
    if set(codings) - {"chunked", ""}:
        # The server undoes `chunked` only: a gzip transfer coding reached the shop as sent.
        raise ApiError("Only the chunked transfer coding is understood.", status=501)
    declared = declared_body(view)
    if declared is None:
        _refuse_unexpected_body()
        return
    if declared == "multipart/form-data":
        if request.mimetype != "multipart/form-data":
            raise ApiError("Send the file as multipart/form-data.", status=415)
        return  # a field given twice: formdata.refuse_repeated_fields, right after this guard
    if not request_body():
        raise ApiError("The request body must be a JSON object.")
    _refuse_a_crowd_of_unknown_fields(_json_object(), view)


def _refuse_a_crowd_of_unknown_fields(body: dict[str, Any], view: Any) -> None:
    """A body with far more fields than its route takes is refused here, naming the first
    `MAX_FIELD_ERRORS` unknown ones, as validation would: validation builds an error for
    each, and a login with 700 000 made-up fields held a worker for five seconds."""
    model = view._spec["body"]
    known = {field.alias or name for name, field in model.model_fields.items()}
    if len(body) <= len(known) + MAX_FIELD_ERRORS:
        return
    fields = unknown_fields(name for name in body if name not in known)
    raise ApiError(invalid_input(fields), fields=fields)


def request_body() -> bytes:
    """The request's body (read once, then cached); a 413 when it is over `MAX_CONTENT_LENGTH`.

    Werkzeug refuses a larger `Content-Length` itself, but a body sent in chunks (no
    `Content-Length`) it reads only up to the limit and hands over cut short, so an
    oversized body was a 400 "not valid JSON", or even accepted when what was cut off
    was trailing whitespace. One byte more left in the input means it did not fit.
    """
    body = request.get_data(cache=True)
    limit = request.max_content_length
    at_limit = limit is not None and len(body) >= limit
    if at_limit and request.content_length is None and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return body


def _from_this_site(origin: str, host: str) -> bool:
    """Whether an `Origin` header names this shop: its host and port, and not plain http
    when the shop is reached over https (a page on http://shop would write to
    https://shop). An https page on a shop that looks like http passes: behind a TLS proxy
    the shop is not told about (`TRUSTED_PROXIES`), every request does. An `Origin` that
    is no URL at all, such as `http://[`, names no site."""
    try:
        named = urlsplit(origin)
    except ValueError:
        return False
    return named.netloc == host and (named.scheme.lower() == "https" or not request.is_secure)


def _json_object() -> dict[str, Any]:
    """The request's body as a JSON object, or a 415 (not JSON) or 400 (not an object).

    The type is `application/json` itself, in UTF-8 if it names a charset: the JSON Patch
    and merge-patch types (other rules for the same body) and other charsets are refused.
    """
    if request.mimetype != "application/json":
        raise ApiError(
            "The request body must be JSON (Content-Type: application/json).", status=415
        )
    if request.mimetype_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise ApiError("The request body must be JSON in UTF-8 (charset=utf-8).", status=415)
    body = request.get_json(silent=True)
    if body is None and request_body().strip() != b"null":
        _refuse_unreadable_json()
    if not isinstance(body, dict):
        raise ApiError("The request body must be a JSON object.")
    return body


def _refuse_unreadable_json() -> None:
    """Say why the body could not be read: a key given twice is named, anything else is
    malformed JSON. Parsed once more, but only on this failing path."""
    try:
        current_app.json.loads(request_body())
    except DuplicateKeyError as error:
        raise given_twice(error.key) from None
    except UnicodeDecodeError:
        raise ApiError("The request body is not valid UTF-8.") from None
    except ValueError:
        pass
    raise ApiError("The request body is not valid JSON.")


#: Field errors named in one answer: a body of 200 000 unknown fields gets a short answer.
MAX_FIELD_ERRORS = 50
#: How much of a field's name an error repeats: a key of megabytes is named by its start.
MAX_FIELD_NAME_SHOWN = 64


def shown_field_name(name: object) -> str:
    """A field's name as an error repeats it, cut short (with "…") when it is very long.

    Not always a string: Werkzeug names a multipart part whose name it cannot read `None`.
    """
    text = str(name)
    return text if len(text) <= MAX_FIELD_NAME_SHOWN else text[:MAX_FIELD_NAME_SHOWN] + "…"


def unknown_fields(names: Iterable[object]) -> dict[str, str]:
    """The field errors of fields a request may not send: the first `MAX_FIELD_ERRORS`."""
    return {shown_field_name(name): "unknown field" for name in islice(names, MAX_FIELD_ERRORS)}


def invalid_input(fields: Mapping[str, str]) -> str:
    """The sentence of a 400 that names its field errors: `Invalid input: name: why; …`."""
    return "Invalid input: " + "; ".join(f"{name}: {why}" for name, why in fields.items())


def given_twice(field: object) -> ApiError:
    """The 400 for a body naming `field` twice, JSON key or form field alike."""
    name = shown_field_name(field)
    return ApiError(
        f"The request body gives the field '{name}' more than once.",
        fields={name: "given more than once"},
    )


def _refuse_unexpected_body() -> None:
    """A route that takes no body refuses one, so a misplaced field is not silently ignored.

    An empty body (whitespace included), or an empty JSON object, is fine.
    """
    if request_body().strip() and (body := _json_object()):
        raise ApiError("This request takes no body.", fields=unknown_fields(body))


def empty_response(status: int = 204) -> Response:
    """An answer with no body, such as a 204 after a delete, and so with no Content-Type:
    Werkzeug gives every response one (`text/html`), which the document does not promise."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response
