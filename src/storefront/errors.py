"""The one place every failure becomes an answer: JSON under `/api`, an HTML page elsewhere."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import (
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from redis.exceptions import RedisError
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError
from werkzeug.exceptions import (
    BadHost,
    ClientDisconnected,
    HTTPException,
    InternalServerError,
    NotFound,
    RequestEntityTooLarge,
)

from .apikit import (
    MAX_FIELD_ERRORS,
    PATTERN_MESSAGES,
    ApiError,
    invalid_input,
    readable_size,
    shown_field_name,
)
from .auth import current_user
from .extensions import database_busy, db, limiter
from .media.storage import StorageUnavailable
from .sessions import session_store_failed

log = logging.getLogger("storefront.errors")

#: What a page says when a form's CSRF token is missing, wrong or expired (a page left open
#: for hours, cookies blocked): Flask-WTF's own "The CSRF token is missing." names a
#: mechanism a shopper does not know, and no way out.
FORM_EXPIRED = (
    "This form has expired or did not come from this site. "
    "Go back, reload the page and send it again."
)

#: Said on the login page a form for logged-in users leads to once its session has ended.
SESSION_ENDED = "You were logged out meanwhile: log in again, then send it once more."

#: Werkzeug's own words for a `Host` header it cannot encode ("The browser (or proxy) sent a
#: request that this server could not understand.") do not say what was wrong.
BAD_HOST = "The Host header does not name a valid host."
#: For an address no route knows: Werkzeug's words ("If you entered the URL manually
#: please check your spelling and try again.") are not the shop's.
NO_SUCH_ADDRESS = "There is nothing at this address. Check the link, or start again from the shop."
#: For a body that could not be read to its end: malformed chunks, a connection lost.
UNREADABLE_BODY = "The request body could not be read: it is malformed or was cut short."

PYDANTIC_MESSAGES = {
    "Extra inputs are not permitted": "unknown field",
    "Field required": "this field is required",
    "String should have at least 1 character": "must not be empty",
}


def wants_json() -> bool:
    """API clients get JSON; browsers on pages get HTML."""
    return request.path == "/api" or request.path.startswith("/api/")


def _with_headers(response: Response, headers: Any) -> Response:
    """Carry over an error's own headers (`Allow`, `Retry-After`…), but not its body's."""
    for name, value in headers or ():
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response


def _json_error(status: int, message: str, headers: Any = None, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return _with_headers(response, headers)


def _page_error(status: int, title: str, message: str, headers: Any = None) -> Response:
    """The friendly error page inside the layout.

    A 5xx may come from the database itself, so its page does not look up who is logged in:
    it is shown as to a visitor.
    """
    if status >= 500:
        g.current_user = None
    if request_ctx.url_adapter is None:
        page = _bare_page(status, title, message)
    else:
        page = render_template("error.html", status=status, title=title, message=message)
    return _with_headers(Response(page, status=status, mimetype="text/html"), headers)


def _bare_page(status: int, title: str, message: str) -> str:
    """The error page for a request no URL can be built for: a `Host` header that is no
    host name (`a..b`, a label over 63 characters) leaves Flask without a URL adapter, and
    the layout's `url_for` would fail inside the error handler, an answer-less crash."""
    return (
        f'<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{status} {escape(title)} · Storefront</title></head>\n"
        f'<body><h1>{status} {escape(title)}</h1>\n<p>{escape(message)}</p>\n<p><a href="/">'
        f"Back to the shop</a></p></body>\n</html>\n"
    )


def _field_errors(detail: dict[str, Any]) -> dict[str, str]:
    """Flatten APIFlask's `{location: {field: [messages]}}` into `{field: "why"}` (the first
    `MAX_FIELD_ERRORS` of them)."""
    fields: dict[str, str] = {}
    for errors in detail.values():
        if not isinstance(errors, dict):
            continue
        for name, messages in errors.items():
            if len(fields) == MAX_FIELD_ERRORS:
                return fields
            texts = messages if isinstance(messages, list) else [str(messages)]
            fields[shown_field_name(name)] = "; ".join(field_message(m) for m in texts)
    return fields


def field_message(text: str) -> str:
    """A pydantic message as the shop words it: a validator's own message loses pydantic's
    "Value error, " in front. The API's field errors and the CLI's both read this way."""
    worded = PYDANTIC_MESSAGES.get(text) or PATTERN_MESSAGES.get(text) or text
    return worded.removeprefix("Value error, ")


def handle_validation_error(error: HTTPError) -> Response:
    """APIFlask's input and `abort()` errors, as `{"error", "fields"}`."""
    fields = _field_errors(error.detail) if isinstance(error.detail, dict) else {}
    extra: dict[str, Any] = {**error.extra_data}
    if fields:
        extra["fields"] = fields
        message = invalid_input(fields)
    else:
        message = error.message
    return _json_error(error.status_code, message, error.headers.items(), **extra)


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug, Flask-WTF and Flask-Limiter errors, keeping headers such as `Allow`."""
    if isinstance(error, InternalServerError) and isinstance(error.original_exception, Exception):
        return _handle_late_failure(error.original_exception)
    db.session.rollback()
    original = error.get_response()
    status = error.code or 500
    if isinstance(error, CSRFError):
        description = FORM_EXPIRED
    elif isinstance(error, BadHost):
        description = BAD_HOST
    elif isinstance(error, ClientDisconnected):
        description = UNREADABLE_BODY
    elif isinstance(error, RequestEntityTooLarge):
        description = _too_large()
    elif isinstance(error, NotFound) and error.description == NotFound.description:
        description = NO_SUCH_ADDRESS  # Werkzeug's own words: an address no route knows
    elif status == 429:  # a rate limit's message says what; when to retry is said here
        wait = None if wants_json() else _time_to_wait()
        description = f"{error.description} Try again {f'in {wait}' if wait else 'later'}."
    else:
        description = error.description or error.name
    if wants_json():
        return _json_error(status, description, original.headers.items())
    if status == 401 and request.method in ("GET", "HEAD"):
        # HEAD answers as GET would (a link checker, `curl -I`): a redirect, not a bare 401.
        return _to_login(request.full_path.rstrip("?"))
    if isinstance(error, CSRFError) and _login_ended_under_form():
        flash(SESSION_ENDED, "info")
        return _to_login(_referring_page(), code=303)
    return _page_error(status, error.name, description, original.headers.items())


def _too_large() -> str:
    """What a 413 says: the body past `MAX_CONTENT_LENGTH`, or (Werkzeug's other limits on a
    form) a field too long or too many fields in a body that is not."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length <= limit:
        return "The form sent has a field longer, or more fields, than the shop takes."
    return f"The request is larger than the shop takes: at most {readable_size(limit)}."


def _time_to_wait() -> str | None:
    """How long until the breached rate limit lets this visitor try again, in words (a page
    says it; API clients read `Retry-After`); None when no limit was breached."""
    breached = limiter.current_limit
    if breached is None:
        return None
    seconds = max(breached.reset_at - time.time(), 1)
    units = (("hour", 3600), ("minute", 60), ("second", 1))
    unit, size = next((name, length) for name, length in units if seconds >= length)
    count = round(seconds / size)
    return f"about {count} {unit}" + ("" if count == 1 else "s")


def _to_login(then: str | None, code: int = 302) -> Response:
    """To the login page, which sends the user on to the page `then` afterwards."""
    login = url_for("accounts_pages.login")
    return redirect(f"{login}?next={quote(then)}" if then else login, code=code)


def _login_ended_under_form() -> bool:
    """Whether a form for logged-in users came from a session that has since ended (a
    logout or a password change in another tab), which is what made its token stale."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "access_check", None) is not None and current_user() is None


def _referring_page() -> str | None:
    """The path of the shop's page a form was sent from, if the browser said so."""
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # `http://[::1/x`: no URL, so no page to go back to
        return None
    root = request.script_root
    if referrer.netloc != request.host or not (
        referrer.path == root or referrer.path.startswith(f"{root}/")
    ):
        return None
    path = referrer.path.removeprefix(root) or "/"
    return f"{path}?{referrer.query}" if referrer.query else path


def _handle_late_failure(error: Exception) -> Response:
    """A failure after the view, while Flask finishes the response (saving the session).

    Flask hands it over wrapped in a bare 500, past the handlers by type; it meets the same
    store handlers here: a database that is down is still a 503, and anything else still a
    logged bug with its reference.
    """
    handler = next(
        (handler for kind, handler in _STORE_HANDLERS if isinstance(error, kind)),
        handle_unexpected,
    )
    return handler(error)


def handle_api_error(error: ApiError) -> Response:
    """An expected failure reported by a service or the request guard."""
    db.session.rollback()
    if wants_json():
        return _json_error(error.status, error.message, **error.extra)
    return _page_error(error.status, "Request refused", error.message)


def handle_database_unavailable(error: DatabaseError) -> Response:
    """The database is busy, unreachable, failing or not set up: not a bug, so a 503 asking
    to retry.

    A lock held past the shop's wait (SQLite's single writer, a PostgreSQL table lock) is
    routine and only warned about; a database without the shop's tables is said to need
    `init-db`, in one line, while a name the migrated schema lacks is a bug (500); anything
    else (connection refused or lost, a server shutting down) is logged in full.
    """
    _rollback_quietly()
    request_id = getattr(g, "request_id", None)
    if database_busy(error):
        log.warning("database busy (request_id=%s)", request_id)
        return _unavailable("The shop is busy right now; please try again in a moment.", request_id)
    if _names_a_missing_table(error):
        if not _migrations_missing():
            return handle_unexpected(error)
        reason = str(error.orig).strip().splitlines()[0]
        log.error(
            "database not set up, run `storefront init-db` (request_id=%s): %s", request_id, reason
        )
    else:
        log.error("database unavailable (request_id=%s)", request_id, exc_info=error)
    message = "The shop's database is unavailable right now; please try again shortly."
    return _unavailable(message, request_id)


def handle_redis_unavailable(error: RedisError) -> Response:
    """Redis (sessions, rate-limit counters) is down or too slow: a 503 asking to retry.

    Nothing more is written to the session store in this request: it would fail again.
    """
    session_store_failed(error)
    _rollback_quietly()
    request_id = getattr(g, "request_id", None)
    log.error("Redis unavailable (sessions, rate limits; request_id=%s): %s", request_id, error)
    return _unavailable("The shop is unavailable right now; please try again shortly.", request_id)


def handle_storage_unavailable(error: StorageUnavailable) -> Response:
    """The upload folder would not take the bytes: a 503 asking to retry, nothing saved."""
    _rollback_quietly()
    request_id = getattr(g, "request_id", None)
    log.error("file storage unavailable (request_id=%s): %s", request_id, error)
    message = "Files cannot be stored right now; please try again later."
    return _unavailable(message, request_id, retry_after=60)


def _unavailable(message: str, request_id: str | None, retry_after: int = 1) -> Response:
    """A 503 that asks the client to try again (in a second, unless said), as JSON or as a
    page."""
    headers = [("Retry-After", str(retry_after))]
    if wants_json():
        return _json_error(503, message, headers, request_id=request_id)
    return _page_error(503, "Unavailable", message, headers)


#: PostgreSQL's "no such table" and "no such column": the shop's migrations have not been
#: applied to this database. SQLite says the same with an OperationalError.
SCHEMA_NOT_SET_UP = frozenset({"42P01", "42703"})


def _names_a_missing_table(error: DatabaseError) -> bool:
    """Whether a table or column the statement needs is not there: PostgreSQL names such an
    error by SQLSTATE, SQLite only in words."""
    named = getattr(error.orig, "sqlstate", None) in SCHEMA_NOT_SET_UP
    return named or str(error.orig).startswith(("no such table", "no such column"))


def _migrations_missing() -> bool:
    """Whether the database lacks the latest migration, so a missing name is for want of
    `init-db`; on a migrated database it is one the code got wrong: a bug."""
    from .ops import database_problem

    _rollback_quietly()
    return database_problem() == "database not migrated"


def handle_programming_error(error: ProgrammingError) -> Response:
    """A database without the shop's tables (`init-db` not run) is an unusable database, a
    503 as it already was on SQLite, not a 500 "bug"; any other refused statement is a bug."""
    if _names_a_missing_table(error):
        return handle_database_unavailable(error)
    return handle_unexpected(error)


#: SQLite's words for a database file it cannot read: damaged, or no database at all.
UNREADABLE_DATABASE_FILE = ("file is not a database", "database disk image is malformed")


def handle_database_error(error: DatabaseError) -> Response:
    """A database file SQLite cannot read is an unusable database, a 503 as `/readyz` says,
    not a 500 "bug"; any other refused statement (a broken constraint) is a bug."""
    if str(error.orig).startswith(UNREADABLE_DATABASE_FILE):
        return handle_database_unavailable(error)
    return handle_unexpected(error)


def _rollback_quietly() -> None:
    """Roll back the failed transaction; an unreachable database may refuse even that."""
    try:
        db.session.rollback()
    except OperationalError:
        db.session.close()


def handle_unexpected(error: Exception) -> Response:
    """A bug: log it with the request id, answer without any detail of it."""
    db.session.rollback()
    request_id = getattr(g, "request_id", None)
    log.exception("unhandled error (request_id=%s)", request_id)
    if wants_json():
        return _json_error(500, "internal error", request_id=request_id)
    message = f"Something went wrong on our side. Reference: {request_id}"
    return _page_error(500, InternalServerError().name, message)


#: The database's and Redis's failures, each kind before the kinds it belongs to, as a view
#: raises them and as they arrive late (`_handle_late_failure`).
_STORE_HANDLERS: tuple[tuple[type[Exception], Callable[[Any], Response]], ...] = (
    (OperationalError, handle_database_unavailable),
    (ProgrammingError, handle_programming_error),
    (DatabaseError, handle_database_error),
    (RedisError, handle_redis_unavailable),
)


def init_errors(app: APIFlask) -> None:
    """Register the handlers above on `app`."""
    app.error_processor(handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    for kind, handler in _STORE_HANDLERS:
        app.register_error_handler(kind, handler)
    app.register_error_handler(StorageUnavailable, handle_storage_unavailable)
    app.register_error_handler(Exception, handle_unexpected)


class UnreadableBodyIsBadRequest:
    """WSGI middleware: a request body the server fails to read for the shop is a 400.

    gunicorn raises its own exceptions from the body's `read` (`InvalidChunkSize` for a
    malformed chunked body, `InvalidHeader` for a bad trailer): a 500, logged as a bug.
    Passed on as the `OSError` of a broken connection, Werkzeug answers them as it answers
    one, with a 400 (`ClientDisconnected`).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.input"] = _ReadErrorsAsOSError(environ["wsgi.input"])
        return self.app(environ, start_response)


class _ReadErrorsAsOSError:
    """A WSGI input stream whose read errors, of whatever kind, are `OSError`s."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _reading(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, method)(*args)
        except (OSError, ValueError):
            raise
        except Exception as error:
            raise OSError(f"the request body could not be read: {error!r}") from error

    def read(self, *args: Any) -> bytes:
        return self._reading("read", *args)

    def readline(self, *args: Any) -> bytes:
        return self._reading("readline", *args)

    def readlines(self, *args: Any) -> list[bytes]:
        return self._reading("readlines", *args)

    def __iter__(self) -> Any:
        return iter(self.readline, b"")
