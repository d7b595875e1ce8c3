"""The tutorial's upload endpoint: content-checked, stored under a generated name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from media_samples import make_image
from sqlalchemy import func, select

from storefront.media.models import StoredFile

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _upload(client, data: bytes, filename: str = "pixel.png", content_type: str = "image/png"):
    return client.post(
        "/api/upload",
        data={"file": (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
    )


def test_upload_and_fetch_back_the_exact_bytes(client, user, login_as):
    login_as(client, user)
    response = _upload(client, PNG)
    assert response.status_code == 201
    body = response.get_json()
    assert body["filename"] == "pixel.png"
    assert body["content_type"] == "image/png"
    assert body["size"] == len(PNG)
    assert response.headers["Location"] == body["url"]
    fetched = client.get(body["url"])
    assert fetched.status_code == 200
    assert fetched.data == PNG
    assert fetched.mimetype == "image/png"
    assert fetched.headers["ETag"]
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"


def test_fetch_with_matching_etag_is_304(client, user, login_as):
    login_as(client, user)
    url = _upload(client, PNG).get_json()["url"]
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_text_file_is_offered_as_a_download(client, user, login_as):
    login_as(client, user)
    body = _upload(client, b"hello, shop\n", "notes.txt", "text/plain").get_json()
    fetched = client.get(body["url"])
    assert fetched.data == b"hello, shop\n"
    assert fetched.headers["Content-Disposition"].startswith("attachment")


def test_type_is_decided_by_content_not_name(client, user, login_as):
    login_as(client, user)
    disguised = _upload(client, b"\x7fELF\x02\x01\x01\x00" + bytes(200), "cat.png", "image/png")
    assert disguised.status_code == 415
    renamed = _upload(client, PNG, "really-a-png.txt", "text/plain")
    assert renamed.status_code == 201
    assert renamed.get_json()["content_type"] == "image/png"


def test_a_riff_file_that_is_no_webp_is_a_type_not_accepted(client, user, login_as):
    """WebP is a RIFF file with WEBP at byte 8; a WAV shares only the RIFF."""
    login_as(client, user)
    wav = b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + bytes(200)

    response = _upload(client, wav, "sound.webp", "image/webp")

    assert response.status_code == 415
    assert response.get_json()["error"].startswith("This type of file is not accepted.")


def test_an_operator_may_accept_fewer_types(client, app, user, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_ALLOWED_TYPES", ("text/plain",))
    login_as(client, user)

    assert _upload(client, PNG).status_code == 415
    assert _upload(client, b"plain words\n", "notes.txt", "text/plain").status_code == 201


def _zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + bytes(100))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"#" * 4096 + _zip_archive(),
        b"a" * 5000 + b"\x00 a NUL far into the file",
        b"hello\xff",
        b"caf\xc3",
    ],
    ids=["archive-behind-text", "nul-after-the-head", "bad-last-byte", "cut-in-a-character"],
)
def test_text_must_be_utf8_without_nul_to_its_last_byte(client, user, login_as, db, data):
    login_as(client, user)

    response = _upload(client, data, "invoice.txt", "text/plain")

    assert response.status_code == 415
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


@pytest.mark.parametrize(
    ("data", "sent_as", "offered_as"),
    [
        (PNG, "a.html", "a.png"),
        (PNG, "photo", "photo.png"),
        (b"plain words\n", "invoice.zip", "invoice.txt"),
        (b"<script>alert(1)</script>\n", "page.html", "page.txt"),
        (b"plain words\n", "notes.md", "notes.md"),
        (b"a,b\n1,2\n", "table.csv", "table.csv"),
        (b'{"a": 1}\n', "data.json", "data.json"),
        (b"plain words\n", "server.log", "server.log"),
        (b"plain words\n", "README", "README"),
        (b"plain words\n", "n" * 5000 + ".md", "n" * 252 + ".md"),
        (PNG, "p" * 300, "p" * 240 + ".png"),  # a name of no type, cut to hold its own
        (b"@echo off\n", "run.bat", "run.txt"),
        (PNG, "shot.PNG", "shot.PNG"),
        (make_image("JPEG"), "photo.jpeg", "photo.jpeg"),
    ],
    ids=lambda value: value[-20:] if isinstance(value, str) else None,
)
def test_a_file_is_offered_under_an_extension_true_to_its_content(
    client, user, login_as, data, sent_as, offered_as
):
    login_as(client, user)

    body = _upload(client, data, sent_as, "application/octet-stream").get_json()

    assert body["filename"] == offered_as
    assert offered_as in client.get(body["url"]).headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", 415),
        (PNG[:-20], 400),
        (make_image("JPEG")[:2] + b"\xff<html></html>", 415),
    ],
    ids=["png-signature-then-html", "png-cut-short", "jpeg-signature-then-html"],
)
def test_an_image_is_stored_only_if_it_is_one(client, user, login_as, db, data, status):
    login_as(client, user)

    response = _upload(client, data, "a.png")

    assert response.status_code == status
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_other_users_get_404_and_staff_can_read(client, user, user_factory, staff, login_as):
    login_as(client, user)
    url = _upload(client, PNG).get_json()["url"]
    login_as(client, user_factory())
    assert client.get(url).status_code == 404
    login_as(client, staff)
    assert client.get(url).data == PNG


def test_upload_needs_login(client):
    assert _upload(client, PNG).status_code == 401


def test_missing_file_is_400(client, user, login_as):
    login_as(client, user)
    response = client.post("/api/upload", data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "file" in response.get_json()["fields"]


def test_the_address_of_a_deleted_file_never_serves_another(client, user, login_as):
    """Answers under a file's URL may be kept by browsers: a new file never takes it over."""
    login_as(client, user)
    first = _upload(client, PNG, "first.png").get_json()
    assert client.delete(f"/api/files/{first['id']}").status_code == 204

    second = _upload(client, b"other text", "second.txt", "text/plain").get_json()

    assert second["url"] != first["url"]
    assert client.get(first["url"]).status_code == 404


def test_two_files_in_one_upload_are_400_and_store_nothing(client, user, login_as, db):
    login_as(client, user)
    for path in ("/api/upload", "/api/images"):
        two = [(io.BytesIO(PNG), name, "image/png") for name in ("one.png", "two.png")]
        response = client.post(path, data={"file": two}, content_type="multipart/form-data")
        assert response.status_code == 400, path
        assert response.get_json()["fields"] == {"file": "given more than once"}
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_a_multipart_body_without_its_boundary_is_a_json_400_saying_so(client, user, login_as, db):
    login_as(client, user)
    body = (
        b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + PNG + b"\r\n--zz--\r\n"
    )

    response = client.post("/api/upload", data=body, content_type="multipart/form-data")

    assert response.status_code == 400
    assert response.get_json() == {"error": "The form data is malformed: it could not be read."}
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_empty_file_is_400(client, user, login_as):
    login_as(client, user)
    assert _upload(client, b"").status_code == 400


def test_json_instead_of_multipart_is_415(client, user, login_as):
    login_as(client, user)
    assert client.post("/api/upload", json={"file": "x"}).status_code == 415


def test_file_over_the_limit_is_json_413(client, app, user, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    login_as(client, user)
    response = _upload(client, PNG + bytes(10_000))
    assert response.status_code == 413
    said = response.get_json()["error"]
    assert said == "The request is larger than the shop takes: at most 2 KB."


def test_client_path_is_never_used_for_storage(client, app, user, login_as):
    login_as(client, user)
    body = _upload(client, b"payload", "../../../etc/passwd\x00.txt", "text/plain").get_json()
    assert "/" not in body["filename"] and "\x00" not in body["filename"]
    stored = [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]
    assert stored and all(
        p.resolve().is_relative_to(Path(app.config["UPLOAD_FOLDER"]).resolve()) for p in stored
    )
    assert not any("passwd" in p.name for p in stored)
    assert client.get(body["url"]).data == b"payload"


def test_deleting_a_user_removes_their_file_records(client, admin, user, login_as):
    login_as(client, user)
    url = _upload(client, PNG).get_json()["url"]
    login_as(client, admin)
    assert client.delete(f"/api/users/{user.id}").status_code == 204
    assert client.get(url).status_code == 404


def test_the_openapi_document_describes_every_key_of_the_upload_answers(
    client, user, login_as, upload
):
    login_as(client, user)
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    answers = {
        "FileOut": upload(client, b"plain text", "notes.txt", path="/api/upload"),
        "ImageOut": upload(client, make_image("PNG", (40, 30), "green"), "tiny.png"),
    }
    for name, response in answers.items():
        assert response.status_code == 201
        assert set(response.get_json()) == set(schemas[name]["properties"]), name
        assert set(response.get_json()) == set(schemas[name]["required"]), name


@pytest.mark.parametrize(
    ("name", "value"),
    [("private", "0"), ("other", b"a second file")],
    ids=["a-field", "a-second-file"],
)
def test_parts_besides_the_file_are_400_and_store_nothing(
    client, staff, login_as, db, product_factory, name, value
):
    login_as(client, staff)
    product = product_factory()
    for method, path in [
        ("POST", "/api/upload"),
        ("POST", "/api/images"),
        ("PUT", f"/api/products/{product.id}/image"),
    ]:
        extra = value if isinstance(value, str) else (io.BytesIO(value), "more.txt")
        data = {"file": (io.BytesIO(make_image("PNG")), "a.png", "image/png"), name: extra}

        response = client.open(path, method=method, data=data, content_type="multipart/form-data")

        assert response.status_code == 400, path
        assert response.get_json()["fields"] == {name: "unknown field"}
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_a_plain_upload_of_an_image_has_no_pixel_limit(client, app, user, login_as, monkeypatch):
    """`IMAGE_MAX_PIXELS` guards what the shop decodes (`/api/images`); `/api/upload` stores
    the file as it came, so a 48-megapixel phone photo is a file like any other."""
    monkeypatch.setitem(app.config, "IMAGE_MAX_PIXELS", 1000)
    login_as(client, user)
    photo = make_image("JPEG", (100, 100))

    assert _upload(client, photo, "photo.jpg", "image/jpeg").status_code == 201
    images = client.post(
        "/api/images",
        data={"file": (io.BytesIO(photo), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert images.status_code == 413


@pytest.mark.parametrize("path", ["/api/upload", "/api/images"])
def test_a_folder_that_cannot_take_the_bytes_is_a_503_and_nothing_is_saved(
    client, db, user, login_as, upload, upload_folder, caplog, path
):
    """A full disk or a read-only mount is an outage to wait out, not a bug (500)."""
    upload_folder.write_text("a file where the upload folder should be")
    login_as(client, user)

    response = upload(client, make_image("PNG", (40, 30)), "a.png", path=path)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert (
        response.get_json()["error"] == "Files cannot be stored right now; please try again later."
    )
    assert "file storage unavailable" in caplog.text
    assert "unhandled error" not in caplog.text
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    documented = client.get("/api/openapi.json").get_json()["paths"][path]["post"]["responses"]
    assert "file storage would not take the bytes" in documented["503"]["description"]
