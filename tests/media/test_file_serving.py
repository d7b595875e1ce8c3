"""GET of files, images and thumbnails: headers, caching, 304, and who may see what."""

from __future__ import annotations

import gc
import io
import warnings

import pytest
from media_samples import make_image

from storefront.media.storage import FileSystemStorage


@pytest.fixture
def image(client, user, login_as, upload):
    """An image `user` uploaded (the client stays logged in as `user`)."""
    login_as(client, user)
    response = upload(client, make_image("PNG", (800, 400), "navy"), "boat.png")
    assert response.status_code == 201
    return response.get_json()


def test_image_is_served_with_type_length_etag_and_private_caching(client, image):
    response = client.get(image["url"])

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert int(response.headers["Content-Length"]) == len(response.data)
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")


def test_thumbnail_has_its_own_etag(client, image):
    full = client.get(image["url"])
    thumbnail = client.get(image["thumbnail_url"])

    assert thumbnail.status_code == 200
    assert thumbnail.headers["Content-Type"] == "image/png"
    assert thumbnail.headers["ETag"] != full.headers["ETag"]
    assert len(thumbnail.data) < len(full.data)


@pytest.mark.parametrize("which", ["url", "thumbnail_url"])
def test_matching_if_none_match_answers_304_without_a_body(client, image, which):
    etag = client.get(image[which]).headers["ETag"]

    response = client.get(image[which], headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""
    assert client.get(image[which], headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("if_match", ['"other"', "garbage", 'W/"other", "else"'])
def test_if_match_naming_another_version_is_a_json_412_without_the_bytes(client, image, if_match):
    response = client.get(image["url"], headers={"If-Match": if_match})

    assert response.status_code == 412
    assert response.mimetype == "application/json"
    assert "error" in response.get_json()
    etag = client.get(image["url"]).headers["ETag"]
    for matching in (etag, "*"):
        assert client.get(image["url"], headers={"If-Match": matching}).status_code == 200


@pytest.mark.parametrize("if_match", ["*", "etag"])
def test_a_matching_if_match_still_lets_if_none_match_answer_304(client, image, if_match):
    etag = client.get(image["url"]).headers["ETag"]
    headers = {"If-Match": etag if if_match == "etag" else "*", "If-None-Match": etag}

    response = client.get(image["url"], headers=headers)

    assert response.status_code == 304
    assert response.data == b""


def test_a_file_the_apps_own_test_client_never_reads_is_not_left_open(app, image, user, login_as):
    """`app.test_client()`, as a test of its own writes it: Flask's client kept the response
    streaming, so the file stayed open until the garbage collector reported it (a
    ResourceWarning, an error under `filterwarnings = error`, in whichever test ran then)."""
    own = app.test_client()
    login_as(own, user)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert own.get(image["url"]).status_code == 200
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_non_image_file_is_offered_as_a_download(client, user, login_as, upload):
    login_as(client, user)
    body = upload(client, b"<script>alert(1)</script>", "notes.html", path="/api/upload")
    assert body.status_code == 201

    response = client.get(body.get_json()["url"])

    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_another_users_file_is_not_found_but_staff_sees_it(
    client, image, user_factory, staff, login_as
):
    login_as(client, user_factory())
    assert client.get(image["url"]).status_code == 404
    assert client.get(image["thumbnail_url"]).status_code == 404

    login_as(client, staff)
    assert client.get(image["url"]).status_code == 200


def test_anonymous_visitor_must_log_in_for_a_private_file(app, image):
    anonymous = app.test_client()

    assert anonymous.get(image["url"]).status_code == 401
    assert anonymous.get("/api/files/999999").status_code == 401


def test_unknown_file_and_thumbnail_of_a_plain_file_are_404(client, user, login_as, upload):
    login_as(client, user)
    plain = upload(client, b"just text", "a.txt", path="/api/upload").get_json()

    assert client.get("/api/files/999999").status_code == 404
    assert client.get(f"/api/files/{plain['id']}/thumbnail").status_code == 404


def test_file_whose_bytes_vanished_is_404_not_500(client, image, upload_folder):
    for path in upload_folder.rglob("*"):
        if path.is_file():
            path.unlink()

    response = client.get(image["url"])

    assert response.status_code == 404
    assert response.get_json()["error"] == "The file's content is missing."


def test_storage_with_direct_urls_redirects_there(app, client, image, upload_folder, monkeypatch):
    """The shape an S3-like backend fills: when storage hands out URLs, clients go there."""

    class LinkingStorage(FileSystemStorage):
        def url(self, key: str) -> str:
            return f"https://cdn.example.test/{key}"

    monkeypatch.setitem(app.extensions, "storefront_storage", LinkingStorage(upload_folder))

    response = client.get(image["url"])

    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://cdn.example.test/")


@pytest.mark.parametrize("file_id", [2**31, 2**63])
def test_id_beyond_the_id_column_is_404(client, user, login_as, file_id):
    login_as(client, user)

    assert client.get(f"/api/files/{file_id}").status_code == 404
    assert client.get(f"/api/files/{file_id}/thumbnail").status_code == 404


def test_unicode_name_is_offered_in_ascii_and_in_full(client, user, login_as, upload):
    login_as(client, user)
    body = upload(client, make_image("PNG"), "café menü.png").get_json()

    disposition = client.get(body["url"]).headers["Content-Disposition"]

    assert disposition == (
        "inline; filename=\"cafe menu.png\"; filename*=UTF-8''caf%C3%A9%20men%C3%BC.png"
    )


def test_a_name_cannot_hide_its_real_extension(client, user, login_as, upload):
    """A right-to-left override showed `invoice\u202efdp.txt` as `invoicetxt.pdf`."""
    login_as(client, user)
    name = "in\u200bvoice\u202efdp.txt\u0085"
    body = upload(client, b"@echo off", name, "/api/upload", "text/plain").get_json()

    assert body["filename"] == "invoicefdp.txt"
    disposition = client.get(body["url"]).headers["Content-Disposition"]
    assert disposition.endswith("filename*=UTF-8''invoicefdp.txt")


def test_joiners_that_are_part_of_the_writing_are_kept(client, user, login_as, upload):
    login_as(client, user)
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f469\u200d\U0001f4bb.txt"
    body = upload(client, b"notes", name, "/api/upload", "text/plain").get_json()

    assert body["filename"] == name


def test_a_double_quote_in_a_name_stays_out_of_the_plain_filename(client, user, login_as):
    login_as(client, user)
    raw = (
        b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a\\"b.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nnotes\r\n--zz--\r\n"
    )
    body = client.post(
        "/api/upload", data=raw, content_type="multipart/form-data; boundary=zz"
    ).get_json()

    assert body["filename"] == 'a"b.txt'
    served = client.get(body["url"]).headers["Content-Disposition"]
    assert served.startswith('attachment; filename="ab.txt";'), served


def test_if_match_compares_etags_strongly(client, user, login_as):
    """RFC 9110: a weak tag never matches If-Match, so a conditional write cannot rely on it."""
    login_as(client, user)
    url = client.post(
        "/api/upload",
        data={"file": (io.BytesIO(b"notes\n"), "notes.txt", "text/plain")},
        content_type="multipart/form-data",
    ).get_json()["url"]
    etag = client.get(url).headers["ETag"]

    assert client.get(url, headers={"If-Match": etag}).status_code == 200
    assert client.get(url, headers={"If-Match": "W/" + etag}).status_code == 412
