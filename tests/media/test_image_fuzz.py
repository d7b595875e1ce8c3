"""Damaged images of every accepted format are refused cleanly: never a server error."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media_samples import make_image
from PIL import ExifTags, Image


def exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    exif[ExifTags.IFD.GPSInfo] = {1: "S", 2: (1.0, 2.0, 3.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "pink").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


SAMPLES = [
    make_image("PNG", (60, 40)),
    make_image("PNG", (60, 40), (1, 2, 3, 4)),
    exif_jpeg(),
    make_image("WEBP", (60, 40)),
    make_image("GIF", (60, 40)),
]


@st.composite
def damaged_images(draw) -> bytes:
    """A valid sample with some bytes overwritten, and perhaps cut short."""
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=damaged_images())
def test_damaged_image_is_stored_or_refused_never_a_500(client, user, login_as, upload, data):
    login_as(client, user)

    response = upload(client, data, "fuzz.bin")

    assert response.status_code in (201, 400, 413, 415), response.get_json()
    assert response.is_json
