"""POST /api/images: the content decides, bombs and damaged files are refused, metadata goes."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import pytest
from media_samples import cmyk_profile_to, make_image, opened, png_declaring, stored_keys
from PIL import ExifTags, Image, ImageCms

#: An sRGB colour profile, made once: its header holds the time it was made.
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

GPS = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)}
ROTATE_90_CLOCKWISE = 6


def phone_photo() -> bytes:
    """A 1600×1200 JPEG, red left half and blue right half, that a phone held upright took:
    EXIF says "rotate 90° clockwise to display", and it carries a GPS position."""
    image = Image.new("RGB", (1600, 1200), "blue")
    image.paste("red", (0, 0, 800, 1200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = ROTATE_90_CLOCKWISE
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def fetch(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return opened(response.data)


def test_png_is_stored_at_display_size_with_a_thumbnail(client, user, login_as, upload):
    login_as(client, user)
    response = upload(client, make_image("PNG", (2000, 1000), "green"), "wide.png")

    assert response.status_code == 201
    body = response.get_json()
    assert body["content_type"] == "image/png"
    assert (body["width"], body["height"]) == (1280, 640)
    assert response.headers["Location"] == body["url"]
    display = fetch(client, body["url"])
    thumbnail = fetch(client, body["thumbnail_url"])
    assert (display.format, display.size) == ("PNG", (1280, 640))
    assert (thumbnail.format, thumbnail.size) == ("PNG", (320, 160))
    assert display.getpixel((10, 10)) == (0, 128, 0)


def test_small_image_is_not_enlarged(client, user, login_as, upload):
    login_as(client, user)
    body = upload(client, make_image("PNG", (200, 100))).get_json()

    assert (body["width"], body["height"]) == (200, 100)
    assert fetch(client, body["thumbnail_url"]).size == (200, 100)


def test_a_thin_image_keeps_at_least_a_pixel_across(client, user, login_as, upload):
    login_as(client, user)
    body = upload(client, make_image("PNG", (1, 5000))).get_json()

    assert body["width"] >= 1 and body["height"] > 1
    assert min(fetch(client, body["thumbnail_url"]).size) >= 1


def test_phone_photo_is_turned_upright_and_loses_its_gps_position(client, user, login_as, upload):
    login_as(client, user)
    response = upload(client, phone_photo(), "IMG_0001.JPG", content_type="image/jpeg")

    assert response.status_code == 201
    body = response.get_json()
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (960, 1280)
    for url, size in ((body["url"], (960, 1280)), (body["thumbnail_url"], (240, 320))):
        raw = client.get(url).data
        image = opened(raw)
        assert (image.format, image.size) == ("JPEG", size)
        width, height = image.size
        # Rotated clockwise, the photo's left (red) half is now on top, blue below.
        top, bottom = image.getpixel((width // 2, 5)), image.getpixel((width // 2, height - 5))
        assert top[0] > 200 and top[2] < 60, top
        assert bottom[2] > 200 and bottom[0] < 60, bottom
        assert len(image.getexif()) == 0
        assert b"Exif" not in raw and b"PhoneCo" not in raw


def test_webp_is_accepted_and_stays_webp(client, user, login_as, upload):
    login_as(client, user)
    response = upload(client, make_image("WEBP", (300, 300), (10, 20, 200, 255)), "a.webp")

    assert response.status_code == 201
    body = response.get_json()
    assert body["content_type"] == "image/webp"
    assert fetch(client, body["url"]).format == "WEBP"
    assert client.get(body["url"]).headers["Content-Type"] == "image/webp"


def test_animated_gif_keeps_its_first_frame(client, user, login_as, upload):
    frames = [Image.new("RGB", (90, 60), colour) for colour in ("red", "lime", "blue")]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=100,
        loop=0,
        comment=b"made-at-home",
    )
    login_as(client, user)

    response = upload(client, buffer.getvalue(), "dance.gif")

    assert response.status_code == 201
    body = response.get_json()
    assert body["content_type"] == "image/gif"
    image = fetch(client, body["url"])
    assert (image.format, image.size) == ("GIF", (90, 60))
    assert b"made-at-home" not in client.get(body["url"]).data
    assert getattr(image, "n_frames", 1) == 1
    assert image.convert("RGB").getpixel((45, 30)) == (255, 0, 0)


def test_multi_picture_jpeg_from_a_phone_keeps_its_first_picture(client, user, login_as, upload):
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (300, 200), "red"), Image.new("RGB", (300, 200), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    login_as(client, user)

    response = upload(client, buffer.getvalue(), "IMG_0002.JPG")

    assert response.status_code == 201
    assert response.get_json()["content_type"] == "image/jpeg"
    image = fetch(client, response.get_json()["url"])
    assert (image.format, image.size) == ("JPEG", (300, 200))
    assert image.getpixel((150, 100))[0] > 200


def test_png_named_jpg_is_stored_as_the_png_it_is(client, user, login_as, upload):
    login_as(client, user)
    response = upload(client, make_image("PNG"), "holiday.jpg", content_type="image/jpeg")

    assert response.status_code == 201
    assert response.get_json()["content_type"] == "image/png"
    served = client.get(response.get_json()["url"])
    assert served.headers["Content-Type"] == "image/png"
    assert 'filename="holiday.png"' in served.headers["Content-Disposition"]


def test_text_named_png_is_refused(client, user, login_as, upload, upload_folder):
    login_as(client, user)
    response = upload(client, b"hello, I am not a picture\n", "cat.png", content_type="image/png")

    assert response.status_code == 415
    assert "not an image" in response.get_json()["error"]
    assert stored_keys(upload_folder) == []


def test_image_format_outside_the_list_is_refused(client, user, login_as, upload):
    login_as(client, user)
    response = upload(client, make_image("BMP"), "old.bmp")

    assert response.status_code == 415


def test_decompression_bomb_is_refused_without_decoding(client, user, login_as, upload):
    """50 000 × 50 000 grey pixels would need 2.5 GB decoded; the file is a few hundred bytes."""
    bomb = png_declaring(50_000, 50_000)
    assert len(bomb) < 4096
    login_as(client, user)
    images_before = Image.core.get_stats()["new_count"]

    tracemalloc.start()
    try:
        response = upload(client, bomb, "bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 413
    assert "too many pixels" in response.get_json()["error"]
    assert peak < 4 * 1024 * 1024, f"peak Python memory {peak} bytes"
    assert Image.core.get_stats()["new_count"] == images_before, "Pillow allocated an image"


def test_image_over_the_configured_pixel_cap_is_refused(
    client, user, login_as, upload, monkeypatch, app
):
    """Below Pillow's own limit, the shop's cap (IMAGE_MAX_PIXELS) still applies."""
    monkeypatch.setitem(app.config, "IMAGE_MAX_PIXELS", 100 * 100)
    login_as(client, user)

    assert upload(client, make_image("PNG", (101, 100))).status_code == 413
    assert upload(client, make_image("PNG", (100, 100))).status_code == 201


def test_truncated_jpeg_is_refused(client, user, login_as, upload, upload_folder):
    photo = make_image("JPEG", (800, 600), "orange")
    login_as(client, user)

    response = upload(client, photo[: len(photo) // 2], "cut.jpg")

    assert response.status_code == 400
    assert "damaged" in response.get_json()["error"]
    assert stored_keys(upload_folder) == []


def test_png_with_a_broken_checksum_is_refused(client, user, login_as, upload):
    png = bytearray(make_image("PNG", (50, 50)))
    png[-14] ^= 0xFF  # inside the image data's checksum, just before the IEND chunk
    login_as(client, user)

    assert upload(client, bytes(png), "broken.png").status_code == 400


def test_hostile_file_names_never_reach_the_disk(client, user, login_as, upload, upload_folder):
    login_as(client, user)
    names = {
        "../../../../etc/passwd.png": "passwd.png",
        "..\\..\\boot.png": "boot.png",
        "nul\x00byte.png": "nulbyte.png",
        "..": "upload.png",
    }
    for shade, (name, shown) in enumerate(names.items()):
        response = upload(client, make_image("PNG", color=(shade, 0, 0, 255)), name)
        assert response.status_code == 201, (name, response.get_json())
        disposition = client.get(response.get_json()["url"]).headers["Content-Disposition"]
        assert f'filename="{shown}"' in disposition

    keys = stored_keys(upload_folder)
    assert len(keys) == len(names)  # small images: the thumbnail is the same bytes
    assert all(len(key.split("/")) == 3 and len(key.split("/")[2]) == 64 for key in keys)


def test_a_16_bit_grey_png_keeps_its_greys(client, user, login_as, upload):
    image = Image.new("I;16", (300, 200), 20000)
    image.paste(Image.new("I;16", (150, 200), 40000), (150, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    login_as(client, user)

    body = upload(client, buffer.getvalue(), "scan.png").get_json()

    for url in (body["url"], body["thumbnail_url"]):
        stored = fetch(client, url).convert("L")
        assert (stored.getpixel((10, 10)), stored.getpixel((stored.width - 10, 10))) == (78, 156)


def _jpeg(mode: str, color: Any, icc_profile: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (400, 300), color).save(buffer, "JPEG", quality=95, icc_profile=icc_profile)
    return buffer.getvalue()


def _profile_space(image: Image.Image) -> bytes | None:
    profile = image.info.get("icc_profile")
    return profile[16:20] if profile else None


def test_a_print_photo_in_cmyk_keeps_the_colours_its_profile_gives(client, user, login_as, upload):
    """Converted ink by ink, this mix is red; through the photo's profile it is a muted
    pink (Lab 60, 40, 20: sRGB 215, 114, 112)."""
    photo = _jpeg("CMYK", (0, 255, 255, 0), cmyk_profile_to((60, 40, 20)))
    login_as(client, user)

    body = upload(client, photo, "print.jpg").get_json()

    for url in (body["url"], body["thumbnail_url"]):
        stored = fetch(client, url)
        assert stored.mode == "RGB"
        assert _profile_space(stored) != b"CMYK"
        red, green, blue = stored.getpixel((20, 20))
        assert abs(red - 215) <= 3 and abs(green - 114) <= 3 and abs(blue - 112) <= 3


@pytest.mark.parametrize(
    ("mode", "color", "profile"),
    [
        ("CMYK", (0, 255, 255, 0), SRGB_PROFILE[:16] + b"CMYK" + SRGB_PROFILE[20:]),
        ("RGB", "red", ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()),
    ],
    ids=["cmyk-with-a-broken-profile", "rgb-with-a-lab-profile"],
)
def test_a_profile_that_cannot_describe_the_stored_pixels_is_dropped(
    client, user, login_as, upload, mode, color, profile
):
    login_as(client, user)

    body = upload(client, _jpeg(mode, color, profile), "photo.jpg").get_json()

    stored = fetch(client, body["url"])
    assert stored.mode == "RGB"
    assert _profile_space(stored) is None
    assert stored.getpixel((20, 20))[0] > 200


def test_an_srgb_profile_is_kept(client, user, login_as, upload):
    login_as(client, user)

    body = upload(client, _jpeg("RGB", "red", SRGB_PROFILE), "photo.jpg").get_json()

    assert fetch(client, body["url"]).info["icc_profile"] == SRGB_PROFILE


def test_one_pixel_image_is_fine(client, user, login_as, upload):
    login_as(client, user)
    body = upload(client, make_image("PNG", (1, 1))).get_json()

    assert (body["width"], body["height"]) == (1, 1)
    assert fetch(client, body["thumbnail_url"]).size == (1, 1)


def test_file_over_the_size_limit_is_413(app, client, user, login_as, upload, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10_000)
    login_as(client, user)

    response = upload(client, make_image("BMP", (200, 200)), "huge.bmp")

    assert response.status_code == 413
    assert response.is_json


@pytest.mark.parametrize("path", ["/api/images", "/api/products/{id}/image"])
def test_empty_file_is_400_as_for_any_upload(client, staff, login_as, product_factory, path):
    login_as(client, staff)
    path = path.format(id=product_factory().id)
    response = client.open(
        path,
        method="POST" if path == "/api/images" else "PUT",
        data={"file": (io.BytesIO(b""), "photo.png", "image/png")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert response.get_json()["fields"] == {"file": "empty file"}


def test_upload_needs_a_file_and_a_login(client, user, login_as, upload):
    assert upload(client, make_image()).status_code == 401
    login_as(client, user)
    response = client.post("/api/images", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "file" in response.get_json()["fields"]
