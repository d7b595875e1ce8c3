"""PUT /api/products/<id>/image: staff set a product's public picture; product JSON links it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from media_samples import make_image, opened, png_declaring, stored_keys
from PIL import ExifTags, Image
from sqlalchemy import delete

from storefront.media.models import ProductImage, StoredFile


def upright_test_photo() -> bytes:
    """A 1000×600 JPEG whose EXIF says "rotate 90° clockwise": upright it is 600×1000."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (52.0, 31.0, 12.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (1000, 600), "olive").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def put_image(upload):
    """`put_image(client, product_id, data)`: send `data` as the product's picture."""

    def put(client, product_id: int, data: bytes, filename: str = "mug.jpg"):
        return client.put(
            f"/api/products/{product_id}/image",
            data={"file": (io.BytesIO(data), filename)},
            content_type="multipart/form-data",
        )

    return put


def test_staff_sets_a_picture_everyone_sees_upright(
    app, client, staff, login_as, put_image, product_factory
):
    product = product_factory()
    login_as(client, staff)

    response = put_image(client, product.id, upright_test_photo())

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == product.id
    assert body["image_url"].startswith("/api/files/")
    visitor = app.test_client()
    assert visitor.get(f"/api/products/{product.id}").get_json()["image_url"] == body["image_url"]
    picture = visitor.get(body["image_url"])
    assert picture.status_code == 200
    assert picture.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert opened(picture.data).size == (600, 1000)
    assert len(opened(picture.data).getexif()) == 0
    assert opened(visitor.get(body["image_url"] + "/thumbnail").data).size == (192, 320)


def test_the_picture_of_a_product_not_on_sale_is_for_staff_only_until_it_is(
    app, client, staff, login_as, put_image, product_factory, user_factory
):
    """A launch is not given away by trying file ids."""
    product = product_factory(active=False)
    login_as(client, staff)
    url = put_image(client, product.id, make_image("PNG", (40, 30))).get_json()["image_url"]
    customer = app.test_client()
    login_as(customer, user_factory())

    assert app.test_client().get(url).status_code == 401
    assert customer.get(url).status_code == 404
    assert customer.get(url + "/thumbnail").status_code == 404
    seen_by_staff = client.get(url)
    assert seen_by_staff.status_code == 200
    assert seen_by_staff.headers["Cache-Control"] == "private, no-cache"  # no proxy keeps it

    client.patch(f"/api/products/{product.id}", json={"active": True})

    on_sale = app.test_client().get(url)
    assert on_sale.status_code == 200
    assert on_sale.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_new_picture_marks_the_product_updated(
    client, staff, login_as, put_image, product_factory
):
    product = product_factory(updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    login_as(client, staff)

    body = put_image(client, product.id, make_image("PNG", (40, 30), "green")).get_json()

    assert body["updated_at"] > "2026-01-02T03:04:05Z"
    assert client.get(f"/api/products/{product.id}").get_json()["updated_at"] == body["updated_at"]


def test_product_without_a_picture_has_a_null_image_url(client, product_factory):
    body = client.get(f"/api/products/{product_factory().id}").get_json()

    assert body["image_url"] is None


def test_product_list_carries_pictures_without_extra_queries(
    client, staff, login_as, put_image, product_factory, assert_max_queries
):
    bare = [product_factory() for _ in range(3)]
    login_as(client, staff)
    with assert_max_queries(10) as without_pictures:
        client.get("/api/products")
    for shade, product in enumerate(bare):
        assert (
            put_image(client, product.id, make_image("PNG", color=(shade, 9, 9, 255))).status_code
            == 200
        )

    with assert_max_queries(len(without_pictures)):
        listed = client.get("/api/products").get_json()

    assert all(item["image_url"] for item in listed)


def test_new_picture_replaces_the_old_one_and_its_bytes(
    client, staff, login_as, put_image, product_factory, upload_folder
):
    product = product_factory()
    login_as(client, staff)
    first = put_image(client, product.id, make_image("PNG", (500, 500), "red")).get_json()

    second = put_image(client, product.id, make_image("PNG", (500, 500), "blue")).get_json()

    assert second["image_url"] != first["image_url"]
    assert client.get(first["image_url"]).status_code == 404
    assert client.get(second["image_url"]).status_code == 200
    assert len(stored_keys(upload_folder)) == 2  # the new display size and thumbnail only


def test_only_staff_may_set_pictures(app, client, user, login_as, put_image, product_factory):
    product = product_factory()

    assert put_image(app.test_client(), product.id, make_image()).status_code == 401
    login_as(client, user)
    assert put_image(client, product.id, make_image()).status_code == 403


def test_picture_of_unknown_product_or_bad_image_is_refused(
    client, staff, login_as, put_image, product_factory, upload_folder
):
    product = product_factory()
    login_as(client, staff)

    assert put_image(client, 999999, make_image()).status_code == 404
    assert put_image(client, product.id, b"plain text", "x.jpg").status_code == 415
    assert put_image(client, product.id, png_declaring(50_000, 50_000)).status_code == 413
    assert client.get(f"/api/products/{product.id}").get_json()["image_url"] is None


def test_pictures_do_not_count_against_the_staff_quota(
    app, client, staff, login_as, put_image, product_factory, monkeypatch
):
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", 10)
    login_as(client, staff)

    assert put_image(client, product_factory().id, make_image()).status_code == 200


def test_deleting_the_picture_file_leaves_the_product_without_one(
    client, staff, login_as, put_image, product_factory
):
    product = product_factory()
    login_as(client, staff)
    body = put_image(client, product.id, make_image()).get_json()

    assert client.delete(body["image_url"]).status_code == 204

    assert client.get(f"/api/products/{product.id}").get_json()["image_url"] is None


def test_an_erased_product_takes_its_picture_with_it(
    db, client, staff, login_as, put_image, product_factory, run_cli, upload_folder
):
    product = product_factory()
    login_as(client, staff)
    body = put_image(client, product.id, make_image("PNG", (600, 600))).get_json()

    assert client.delete(f"/api/products/{product.id}").status_code == 204

    assert client.get(body["image_url"]).status_code == 404
    assert client.get(body["image_url"] + "/thumbnail").status_code == 404
    assert stored_keys(upload_folder) == []
    assert run_cli("media", "check").exit_code == 0


def test_an_ordered_product_deleted_keeps_its_picture(
    client, user, staff, login_as, put_image, product_factory
):
    """It is only taken off sale, and may come back."""
    product = product_factory()
    login_as(client, staff)
    body = put_image(client, product.id, make_image("PNG", (600, 600))).get_json()
    login_as(client, user)
    client.post("/api/cart/items", json={"product_id": product.id, "quantity": 1})
    assert client.post("/api/cart/checkout").status_code == 201
    login_as(client, staff)

    assert client.delete(f"/api/products/{product.id}").status_code == 204

    assert client.get(f"/api/products/{product.id}").get_json()["image_url"] == body["image_url"]
    assert client.get(body["image_url"]).status_code == 200


def test_a_picture_left_without_its_product_is_cleaned_by_media_check(
    db, client, staff, login_as, put_image, product_factory, run_cli, upload_folder
):
    """What a shop stopped between erasing a product and deleting its picture leaves."""
    product = product_factory()
    login_as(client, staff)
    body = put_image(client, product.id, make_image("PNG", (600, 600))).get_json()
    db.session.execute(delete(ProductImage))
    db.session.commit()

    found = run_cli("media", "check")
    assert found.exit_code == 1
    file_id = int(body["image_url"].rsplit("/", 1)[1])
    assert f"unused product picture: file {file_id}" in found.output

    fixed = run_cli("media", "check", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert db.session.get(StoredFile, file_id) is None
    assert stored_keys(upload_folder) == []


@pytest.mark.parametrize("deleted_by", ["admin", "themselves"])
def test_pictures_stay_when_the_staff_member_who_set_them_is_deleted(
    db, client, staff, admin, login_as, put_image, product_factory, deleted_by
):
    product = product_factory()
    login_as(client, staff)
    picture = put_image(client, product.id, make_image()).get_json()["image_url"]

    login_as(client, admin if deleted_by == "admin" else staff)
    assert client.delete(f"/api/users/{staff.id}").status_code == 204

    client.post("/api/logout")
    assert client.get(f"/api/products/{product.id}").get_json()["image_url"] == picture
    assert client.get(picture).status_code == 200
    file_id = int(picture.rsplit("/", 1)[1])
    assert db.session.get(StoredFile, file_id).owner_id == admin.id


def test_a_staff_member_no_longer_staff_cannot_delete_the_pictures_they_set(
    db, client, staff, admin, login_as, put_image, product_factory
):
    product = product_factory()
    login_as(client, staff)
    picture = put_image(client, product.id, make_image("PNG", (600, 600))).get_json()["image_url"]
    login_as(client, admin)
    assert client.patch(f"/api/users/{staff.id}", json={"role": "customer"}).status_code == 200

    login_as(client, staff)
    assert client.delete(picture).status_code == 404

    assert client.get(f"/api/products/{product.id}").get_json()["image_url"] == picture
    assert client.get(picture).status_code == 200


def test_deleting_the_picture_file_marks_the_product_updated(
    db, client, staff, login_as, put_image, product_factory
):
    product = product_factory()
    login_as(client, staff)
    picture = put_image(client, product.id, make_image()).get_json()["image_url"]
    product.updated_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    db.session.commit()

    assert client.delete(picture).status_code == 204

    body = client.get(f"/api/products/{product.id}").get_json()
    assert body["image_url"] is None
    assert body["updated_at"] > "2026-01-02T03:04:05Z"
