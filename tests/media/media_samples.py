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
