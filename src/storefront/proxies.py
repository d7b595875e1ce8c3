"""The proxies in front of the shop (`TRUSTED_PROXIES`): what of their headers is believed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

#: A path a proxy may mount the shop under (`/shop`, `/eu/shop/`): segments of RFC 3986's
#: unreserved characters, none of them `.` or `..`.
_PATH_PREFIX = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)*/?")
#: Where the middleware leaves a prefix it refused, for `refuse_malformed_prefix`.
_REFUSED_PREFIX = "storefront.refused_forwarded_prefix"


class ProxyFixWithCheckedPrefix(ProxyFix):
    """Werkzeug's ProxyFix, but a malformed `X-Forwarded-Prefix` is not applied, and the
    request is refused by `refuse_malformed_prefix` with the shop's own error page.

    ProxyFix takes any prefix as the shop's root path, and every link and redirect is built
    on it: `//evil` pointed the pages' links at another site; a prefix without its leading
    slash, with spaces or control characters gave links no browser follows.
    """

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        prefix = self._get_real_value(self.x_prefix, environ.get("HTTP_X_FORWARDED_PREFIX"))
        if prefix is not None and not _PATH_PREFIX.fullmatch(prefix):
            environ[_REFUSED_PREFIX] = prefix
            del environ["HTTP_X_FORWARDED_PREFIX"]
        return super().__call__(environ, start_response)


def refuse_malformed_prefix() -> None:
    """400 (a page, or JSON under `/api`) for a request whose forwarded prefix was refused."""
    if _REFUSED_PREFIX in request.environ:
        raise BadRequest("The X-Forwarded-Prefix header is not a valid path prefix.")
