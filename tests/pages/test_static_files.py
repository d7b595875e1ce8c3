"""The pages' static files: cached by ETag, and answering `If-Match` as a stored file does."""

from __future__ import annotations

import pytest

STYLE = "/static/style.css"


def test_a_static_file_is_served_with_its_etag(client):
    response = client.get(STYLE)

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.headers["ETag"]
    assert b":root" in response.data


@pytest.mark.parametrize("if_match", ['"other"', "garbage", 'W/"other", "else"'])
def test_if_match_naming_another_version_is_a_412_page_without_the_file(client, if_match):
    response = client.get(STYLE, headers={"If-Match": if_match})

    assert response.status_code == 412
    assert response.mimetype == "text/html"
    assert "The file&#39;s ETag matches none in If-Match." in response.get_data(as_text=True)
    assert b":root" not in response.data


def test_if_match_naming_another_version_refuses_a_range_too(client):
    response = client.get(STYLE, headers={"If-Match": '"other"', "Range": "bytes=0-9"})

    assert response.status_code == 412


@pytest.mark.parametrize("which", ["etag", "*"])
def test_if_match_naming_the_file_or_any_serves_it(client, which):
    etag = client.get(STYLE).headers["ETag"]

    response = client.get(STYLE, headers={"If-Match": etag if which == "etag" else "*"})

    assert response.status_code == 200
    assert b":root" in response.data


def test_if_match_star_with_a_matching_if_none_match_is_a_304(client):
    etag = client.get(STYLE).headers["ETag"]

    response = client.get(STYLE, headers={"If-Match": "*", "If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""


def test_a_range_of_a_static_file_is_served(client):
    response = client.get(STYLE, headers={"Range": "bytes=0-1"})

    assert response.status_code == 206
    assert response.data == b"/*"


def test_an_unsatisfiable_range_is_a_416_page(client):
    response = client.get(STYLE, headers={"Range": "bytes=999999-"})

    assert response.status_code == 416
    assert response.mimetype == "text/html"
