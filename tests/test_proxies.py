"""Behind `TRUSTED_PROXIES` proxies: what their `X-Forwarded-*` headers change or are refused."""

from __future__ import annotations

import pytest

BAD_PREFIXES = ["has space", "noslash", "//evil", "/shop//evil", "/a\x01b", "/a b", "/..", "/é"]


@pytest.fixture
def proxied(make_app):
    return make_app(TRUSTED_PROXIES=1).test_client()


def test_a_forwarded_prefix_is_the_root_of_every_link(proxied):
    response = proxied.get("/", headers={"X-Forwarded-Prefix": "/shop"})

    assert response.status_code == 200
    assert 'href="/shop/static/style.css"' in response.get_data(as_text=True)


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
def test_a_malformed_forwarded_prefix_is_a_400_page_linking_nowhere_else(proxied, prefix):
    response = proxied.get("/", headers={"X-Forwarded-Prefix": prefix})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The X-Forwarded-Prefix header is not a valid path prefix." in page
    assert 'href="/static/style.css"' in page


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
def test_a_malformed_forwarded_prefix_is_a_json_400_under_the_api(proxied, prefix):
    response = proxied.get("/api/products", headers={"X-Forwarded-Prefix": prefix})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "The X-Forwarded-Prefix header is not a valid path prefix."
    }


def test_without_trusted_proxies_a_forwarded_prefix_is_ignored(client):
    response = client.get("/", headers={"X-Forwarded-Prefix": "//evil"})

    assert response.status_code == 200
    assert "//evil" not in response.get_data(as_text=True)


@pytest.mark.parametrize("scheme", ["javascript", "ftp", "https:"])
def test_a_forwarded_scheme_that_is_not_the_webs_is_a_400(proxied, scheme):
    """Lists build their `Link` header on it: `javascript://…` was answered."""
    response = proxied.get("/api/products", headers={"X-Forwarded-Proto": scheme})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "The X-Forwarded-Proto header names no web scheme (http or https)."
    }


@pytest.mark.parametrize("scheme", ["https", "HTTPS"])
def test_a_forwarded_https_scheme_and_host_make_the_links(proxied, product_factory, scheme):
    product_factory()
    headers = {"X-Forwarded-Proto": scheme, "X-Forwarded-Host": "shop.example.com"}

    response = proxied.get("/api/products", headers=headers)

    assert response.headers["Link"].startswith("<https://shop.example.com/api/products?")
