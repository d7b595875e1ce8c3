"""The proxies in front of the shop (`TRUSTED_PROXIES`): what of their headers is believed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import request
from werkzeug.exceptions import BadHost, BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

#: A path a proxy may mount the shop under (`/shop`, `/eu/shop/`): segments of RFC 3986's
#: unreserved characters, none of them `.` or `..`.
_PATH_PREFIX = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)*/?")
#: A host as a `Host` (or `X-Forwarded-Host`) header may name one: DNS labels in ASCII
#: (an international name in its punycode form), or an IPv6 address in brackets, and a port.
_HOST = re.compile(
    r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])"
    r"(?::[0-9]{1,5})?"
)
#: Where the middleware leaves a prefix it refused, for `refuse_malformed_origin`.
_REFUSED_PREFIX = "storefront.refused_forwarded_prefix"


class ProxyFixWithCheckedPrefix(ProxyFix):
    """Werkzeug's ProxyFix, but a malformed `X-Forwarded-Prefix` is not applied, and the
    request is refused by `refuse_malformed_origin` with the shop's own error page.

    ProxyFix takes any prefix as the shop's root path, and every link and redirect is built
    on it: `//evil` pointed the pages' links at another site; a prefix without its leading
    slash, with spaces or control characters gave links no browser follows.
    """

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if "HTTP_X_FORWARDED_PROTO" in environ:  # `HTTPS` is `https`: schemes ignore case
            environ["HTTP_X_FORWARDED_PROTO"] = environ["HTTP_X_FORWARDED_PROTO"].lower()
        prefix = self._get_real_value(self.x_prefix, environ.get("HTTP_X_FORWARDED_PREFIX"))
        if prefix is not None and not _PATH_PREFIX.fullmatch(prefix):
            environ[_REFUSED_PREFIX] = prefix
            del environ["HTTP_X_FORWARDED_PREFIX"]
        return super().__call__(environ, start_response)


def refuse_malformed_origin() -> None:
    """400 (a page, or JSON under `/api`) for a request whose own address, as the shop
    builds links from it, is none: a forwarded prefix that was refused, a host that is no
    host name (`a b`, `host/path`, `é.com`), a forwarded scheme that is not the web's.

    Links built on them pointed nowhere (`http:///api/products`) or at a script
    (`javascript://…`), and a non-ASCII host could not even be sent in a header: a 500.
    """
    if _REFUSED_PREFIX in request.environ:
        raise BadRequest("The X-Forwarded-Prefix header is not a valid path prefix.")
    given = request.headers.get("Host")
    if given and not _HOST.fullmatch(given):
        raise BadHost()
    if request.scheme not in ("http", "https"):
        raise BadRequest("The X-Forwarded-Proto header names no web scheme (http or https).")
