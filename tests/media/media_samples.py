"""Real images made with Pillow for the media tests, and ways to look at what was stored."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_image(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: Any = "red", **save: Any
) -> bytes:
    """An image of one colour, encoded as `fmt`, with extra `save` options (e.g. `exif`)."""
    mode = "RGBA" if fmt in ("PNG", "WEBP") and isinstance(color, tuple) else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid-looking grey PNG of a few hundred bytes whose header claims `width`×`height`."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    first_rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", first_rows) + chunk(b"IEND", b"")


def opened(data: bytes) -> Image.Image:
    """Open bytes answered by the shop as an image."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def stored_keys(folder: Path) -> list[str]:
    """Every file under the upload folder, as paths relative to it."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def cmyk_profile_to(lab: tuple[float, float, float]) -> bytes:
    """An ICC (v2) profile of a CMYK printer whose every ink mix without black prints the
    one Lab colour `lab` (full black prints black): converted through it, an image with no
    black ink comes out in that colour only.

    A `lut8Type` A2B0 table (two grid points per ink), a white point and a description:
    what a colour engine needs to read CMYK through it.
    """

    def tag(kind: bytes, body: bytes) -> bytes:
        data = kind + bytes(4) + body
        return data + bytes(-len(data) % 4)

    def s15f16(*values: float) -> bytes:
        return b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    lightness, a, b = lab
    without_black = bytes([round(lightness * 255 / 100), round(a + 128), round(b + 128)])
    black = bytes([0, 128, 128])
    identity = bytes(range(256))
    lut = (
        bytes([4, 3, 2, 0])
        + s15f16(1, 0, 0, 0, 1, 0, 0, 0, 1)
        + identity * 4
        + (without_black + black) * 2**3
        + identity * 3
    )
    name = b"one-colour CMYK\x00"
    tags = [
        (b"desc", tag(b"desc", struct.pack(">I", len(name)) + name + bytes(4 + 4 + 67))),
        (b"wtpt", tag(b"XYZ ", s15f16(0.9642, 1.0, 0.8249))),
        (b"A2B0", tag(b"mft1", lut)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"prtrCMYKLab "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8)
        + struct.pack(">I", 0)
        + s15f16(0.9642, 1.0, 0.8249)
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + table + data
