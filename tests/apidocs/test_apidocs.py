"""`/api/docs`: Swagger UI served from the shop's own origin, under the shop's CSP."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


class AssetLinks(HTMLParser):
    """The URLs of the scripts, stylesheets and icons a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url:
            self.urls.append(url)


#: What a browser runs as a script under `X-Content-Type-Options: nosniff`; which one a file
#: gets depends on the machine's MIME table (Python 3.11's own says the second).
JAVASCRIPT = {"text/javascript", "application/javascript"}


def page_assets(html: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.urls


def test_the_docs_page_loads_swagger_ui_from_the_shop_itself(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "http://" not in html and "https://" not in html
    assert sorted(page_assets(html)) == [
        "/api/docs/swagger-init.js",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-ui.css",
        "/static/favicon.svg",
    ]
    assert 'data-spec-url="/api/openapi.json"' in html


@pytest.mark.parametrize(
    ("path", "mimetypes", "marker"),
    [
        ("/api/docs/swagger-ui.css", {"text/css"}, b".swagger-ui"),
        ("/api/docs/swagger-ui-bundle.js", JAVASCRIPT, b"SwaggerUIBundle"),
        ("/api/docs/swagger-init.js", JAVASCRIPT, b"SwaggerUIBundle("),
    ],
)
def test_the_page_assets_are_served_with_their_content_type(client, path, mimetypes, marker):
    with client.get(path) as response:
        assert response.status_code == 200
        assert response.mimetype in mimetypes
        assert marker in response.data


def test_the_page_assets_are_cached_as_the_shops_static_files_are(client):
    shop_file = client.get("/static/style.css")
    first = client.get("/api/docs/swagger-ui-bundle.js")

    again = client.get(
        "/api/docs/swagger-ui-bundle.js", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert first.headers["Cache-Control"] == shop_file.headers["Cache-Control"]
    assert again.status_code == 304
    assert again.data == b""


def test_the_docs_page_has_the_same_content_security_policy_as_every_page(client):
    docs = client.get("/api/docs")
    policy = docs.headers["Content-Security-Policy"]

    assert policy == client.get("/form").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "cdn" not in policy and "http" not in policy


def test_head_of_the_docs_page_answers_without_a_body(client):
    response = client.head("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.data == b""


@pytest.mark.parametrize(
    "path",
    [
        "/api/docs/",
        "/api/docs/nothing-here.js",
        "/api/docs/oauth2-redirect.html",  # in Swagger UI's folder, but not a page asset
        "/api/docs/views.py",  # in the package's own folder
        "/api/docs/..%2Fviews.py",
        "/api/docs/static/swagger-init.js",
    ],
)
def test_any_other_path_under_the_docs_is_a_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert "error" in response.get_json()


def test_the_docs_page_follows_the_url_prefix_the_shop_is_mounted_at(client):
    html = client.get("/api/docs", base_url="http://localhost/shop").get_data(as_text=True)

    assert 'data-spec-url="/shop/api/openapi.json"' in html
    assert all(url.startswith("/shop/") for url in page_assets(html))


def test_the_document_names_the_url_prefix_as_its_server_so_try_it_out_stays_under_it(
    client,
):
    mounted = client.get("/api/openapi.json", base_url="http://localhost/shop").get_json()
    at_root = client.get("/api/openapi.json").get_json()

    assert mounted["servers"] == [{"url": "/shop"}]
    assert "servers" not in at_root
    assert mounted["paths"] == at_root["paths"]


def test_the_openapi_document_does_not_describe_the_docs_page(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    assert not [path for path in paths if path.startswith("/api/docs")]
