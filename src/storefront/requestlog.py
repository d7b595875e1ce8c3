"""One log line per request, with its final status and its whole time, and no live token.

Written around the Flask app (WSGI middleware), not in an `after_request` hook: a session
store that fails as the answer is saved turns a 200 into a 503 after the hook has run, and
the time spent opening the session (a Redis silent for 2 seconds) comes before any hook.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from werkzeug.wsgi import get_path_info

log = logging.getLogger("storefront.request")

#: What a logged path keeps as it is: RFC 3986 path characters (and the token's brackets).
_PATH_SAFE = "/:@!$&'()*+,;=~[]"
#: The segment after `/confirm/` or `/reset/` (an emailed link's token), `/confirm/resend` aside.
_TOKEN_IN_PATH = re.compile(r"(/(?:confirm|reset)/)(?!resend(?:/|$))[^/]+")


def loggable_path(path: str) -> str:
    """`path` with any token in it (confirmation and reset links) blanked out.

    It is percent-encoded again: a decoded `%0A` would end the log line and let the rest of
    the path pass for a line of its own. Blanked whatever route it matched, or none: a
    link's path that is a 404, or a 405 for another method, may carry a live token all the
    same.
    """
    return quote(_TOKEN_IN_PATH.sub(r"\1[token]", path), safe=_PATH_SAFE)


class RequestLog:
    """WSGI middleware writing `request_id=… METHOD /path STATUS 12.3ms` once the answer
    starts, the id being the `X-Request-ID` the shop answered with."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()

        def start_and_log(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            request_id = next((v for k, v in headers if k.lower() == "x-request-id"), "")
            log.info(
                "request_id=%s %s %s %s %.1fms",
                request_id,
                environ.get("REQUEST_METHOD", ""),
                loggable_path("/" + get_path_info(environ).lstrip("/")),  # as `request.path`
                status.split(" ", 1)[0],
                (time.perf_counter() - started) * 1000,
            )
            return start_response(status, headers, *exc_info)

        return self.app(environ, start_and_log)
