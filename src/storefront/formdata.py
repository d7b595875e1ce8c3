"""How the shop reads a form body (url-encoded or multipart): pages and `/api` uploads alike."""

from __future__ import annotations

import io
import re
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from flask import Request, request
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

from .apikit import UNSAFE_METHODS, given_twice

UNREADABLE_FORM = "The form data is malformed: it could not be read."

#: A `%` that starts no escape (`%zz`, a `%` at the end): a browser sends a typed `%` as `%25`.
_STRAY_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class StrictFormDataParser(FormDataParser):
    """Werkzeug's form parser, refusing (400) a body it cannot read instead of guessing.

    Werkzeug reads a multipart body without its boundary, or cut off, as an empty form (the
    CSRF check then calls the form expired), and keeps a url-encoded escape that is not
    UTF-8 (`%FF`) or no escape at all (`%zz`) as literal text, which a form then stores.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent = False  # a ValueError of the parse reaches `parse` below

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> Any:
        try:
            if mimetype == "application/x-www-form-urlencoded":
                stream = io.BytesIO(_checked_urlencoded(stream.read()))
            return super().parse(stream, mimetype, content_length, options)
        except ValueError:
            raise BadRequest(UNREADABLE_FORM) from None


def _checked_urlencoded(body: bytes) -> bytes:
    """`body` when every `%` starts an escape and it is UTF-8 once unescaped; else ValueError."""
    if _STRAY_PERCENT.search(body):
        raise ValueError("a % that starts no escape")
    unquote_to_bytes(body).decode("utf-8")
    return body


class StrictFormRequest(Request):
    """Flask's request, reading form bodies with `StrictFormDataParser`."""

    form_data_parser_class = StrictFormDataParser


def refuse_repeated_fields() -> None:
    """Refuse (400) a form naming a field twice, on a page or an `/api` upload, as a JSON body
    naming a key twice is: which value counts would be a guess. Werkzeug keeps every value;
    the CSRF check took the first token, a form the first quantity, an upload the first file.

    It runs before the CSRF check, so a second token is refused whichever of the two is good.
    """
    if request.method not in UNSAFE_METHODS or request.url_rule is None:
        return  # no form is read: a 404 or 405 says so
    for fields in (request.form, request.files):
        for name, values in fields.lists():
            if len(values) > 1:
                raise given_twice(name)
