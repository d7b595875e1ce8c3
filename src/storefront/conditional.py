"""Conditional GETs of files, stored or static: one reading of `If-Match` for both."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request
from werkzeug.exceptions import HTTPException


def answer_conditionally(response: Response, **conditional: Any) -> Response:
    """`response` as Werkzeug's `make_conditional` answers it, with `If-Match` judged first,
    as RFC 9110 has it.

    An `If-Match` naming no ETag of the response is a 412 error (the shop's page, or JSON
    under `/api`), where Werkzeug sends the whole file under its 412; `*` matches any file,
    where Werkzeug answers 412. Werkzeug then judges the other conditions (`If-None-Match`,
    `If-Modified-Since`, `Range`) without it. `conditional` goes on to `make_conditional`.
    """
    etag, _ = response.get_etag()
    if request.if_match and not request.if_match.contains(etag or ""):
        response.close()
        abort(412, description="The file's ETag matches none in If-Match.")
    environ = {**request.environ}
    environ.pop("HTTP_IF_MATCH", None)
    try:
        return response.make_conditional(environ, **conditional)
    except HTTPException:  # a Range it cannot satisfy: a 416, and the file is not left open
        response.close()
        raise
