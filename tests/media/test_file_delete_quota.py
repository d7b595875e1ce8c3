"""Identical uploads share bytes; deleting frees them only when unreferenced; quotas hold."""

from __future__ import annotations

import io

from media_samples import make_image, stored_keys

PHOTO = make_image("JPEG", (1000, 700), "teal")


def test_identical_uploads_are_stored_once(client, user_factory, login_as, upload, upload_folder):
    ids = set()
    for _ in range(2):
        login_as(client, user_factory())
        response = upload(client, PHOTO, "same.jpg")
        assert response.status_code == 201
        ids.add(response.get_json()["id"])

    assert len(ids) == 2
    assert len(stored_keys(upload_folder)) == 2  # one display size, one thumbnail


def test_deleting_keeps_bytes_another_file_still_uses(
    client, user_factory, login_as, upload, upload_folder
):
    alice, bob = user_factory(), user_factory()
    login_as(client, alice)
    alices = upload(client, PHOTO).get_json()
    login_as(client, bob)
    bobs = upload(client, PHOTO).get_json()

    login_as(client, alice)
    assert client.delete(f"/api/files/{alices['id']}").status_code == 204
    assert client.get(alices["url"]).status_code == 404
    assert len(stored_keys(upload_folder)) == 2

    login_as(client, bob)
    assert client.get(bobs["url"]).status_code == 200
    assert client.get(bobs["thumbnail_url"]).status_code == 200
    assert client.delete(f"/api/files/{bobs['id']}").status_code == 204
    assert stored_keys(upload_folder) == []


def test_plain_upload_is_deleted_with_its_bytes(client, user, login_as, upload, upload_folder):
    login_as(client, user)
    body = upload(client, b"a shopping list", "list.txt", path="/api/upload").get_json()

    assert client.delete(f"/api/files/{body['id']}").status_code == 204
    assert stored_keys(upload_folder) == []


def test_only_owner_and_staff_may_delete(client, user, user_factory, staff, login_as, upload):
    login_as(client, user)
    body = upload(client, PHOTO).get_json()

    assert client.application.test_client().delete(body["url"]).status_code == 401
    login_as(client, user_factory())
    assert client.delete(body["url"]).status_code == 404
    login_as(client, user)
    assert client.get(body["url"]).status_code == 200
    login_as(client, staff)
    assert client.delete(body["url"]).status_code == 204
    assert client.delete(body["url"]).status_code == 404


def test_quota_exceeded_is_413_and_deleting_frees_room(
    app, client, user, login_as, upload, monkeypatch
):
    login_as(client, user)
    first = upload(client, make_image("PNG", (300, 300), "red")).get_json()
    used = int(client.get(first["url"]).headers["Content-Length"])
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", used + 100)

    refused = upload(client, make_image("PNG", (300, 300), "blue"))
    assert refused.status_code == 413
    assert "quota" in refused.get_json()["error"]
    assert upload(client, b"x" * 200, "big.txt", path="/api/upload").status_code == 413
    assert upload(client, b"x" * 50, "small.txt", path="/api/upload").status_code == 201

    assert client.delete(first["url"]).status_code == 204
    assert upload(client, make_image("PNG", (300, 300), "blue")).status_code == 201


def test_an_images_thumbnail_counts_against_the_quota(
    app, client, user, login_as, upload, monkeypatch
):
    login_as(client, user)
    image = upload(client, PHOTO, "photo.jpg").get_json()
    stored = [
        int(client.get(image[key]).headers["Content-Length"]) for key in ("url", "thumbnail_url")
    ]
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", sum(stored))

    refused = upload(client, b"x", "one-more-byte.txt", path="/api/upload")

    assert refused.status_code == 413
    assert refused.get_json()["used_bytes"] == sum(stored)


def test_a_file_that_fills_the_quota_exactly_fits(app, client, user, login_as, upload, monkeypatch):
    login_as(client, user)
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", 300)
    assert upload(client, b"x" * 100, "a.txt", path="/api/upload").status_code == 201

    assert upload(client, b"y" * 200, "b.txt", path="/api/upload").status_code == 201
    assert upload(client, b"z", "c.txt", path="/api/upload").status_code == 413


def test_product_pictures_do_not_count_against_the_staff_members_quota(
    app, client, staff, login_as, upload, monkeypatch, product_factory
):
    """They are the shop's, not the uploader's."""
    login_as(client, staff)
    picture = make_image("PNG", (300, 300), "red")
    put = client.put(
        f"/api/products/{product_factory().id}/image",
        data={"file": (io.BytesIO(picture), "p.png")},
        content_type="multipart/form-data",
    )
    assert put.status_code == 200
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", 100)

    assert upload(client, b"x" * 100, "notes.txt", path="/api/upload").status_code == 201


def test_quota_is_per_user(app, client, user_factory, login_as, upload, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", len(PHOTO) * 2)
    for _ in range(2):
        login_as(client, user_factory())
        assert upload(client, PHOTO).status_code == 201


def test_deleting_an_account_deletes_the_bytes_only_its_files_used(
    client, user, user_factory, login_as, upload, upload_folder, run_cli
):
    other = user_factory()
    login_as(client, other)
    shared = upload(client, PHOTO).get_json()
    login_as(client, user)
    upload(client, PHOTO)
    upload(client, b"a shopping list", "list.txt", path="/api/upload")
    assert len(stored_keys(upload_folder)) == 3

    assert client.delete(f"/api/users/{user.id}").status_code == 204

    assert len(stored_keys(upload_folder)) == 2  # the list's bytes went, the shared photo's stay
    login_as(client, other)
    assert client.get(shared["url"]).status_code == 200
    assert client.get(shared["thumbnail_url"]).status_code == 200
    assert run_cli("media", "check").exit_code == 0
