"""Turn an untrusted upload into clean images: verified, upright, metadata-free, resized.

Pillow decides what the bytes are (never the name or declared type); JPEG, PNG, WebP and
GIF are accepted, and only their first frame is kept. The pixel count is checked from the
header, before anything is decoded, so a small file declaring a huge image costs no memory.
Re-encoding drops EXIF (GPS included), XMP and comments; only a colour profile that fits
the stored pixels is kept. CMYK (print photos) is converted to sRGB through its profile.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps

log = logging.getLogger("storefront.media")

#: The Pillow readers tried on an upload; no other parser ever sees its bytes.
OPENERS = ("JPEG", "PNG", "WEBP", "GIF")
#: Format Pillow reports → (output format, content type, file extension). The JPEG
#: reader reports phone photos carrying several pictures as MPO.
FORMATS: dict[str, tuple[str, str, str]] = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),  # a JPEG with more pictures, as phones take
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
    "GIF": ("GIF", "image/gif", "gif"),  # the first frame only
}
KEPT_MODES = frozenset({"RGB", "RGBA", "L", "LA"})
#: The colour space of a profile that can describe each kept mode.
_PROFILE_SPACES = {"RGB": b"RGB ", "RGBA": b"RGB ", "L": b"GRAY", "LA": b"GRAY"}
_SRGB = ImageCms.createProfile("sRGB")
SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 85},
    "WEBP": {"quality": 85},
    "PNG": {},
    "GIF": {},
}


class ImageRejected(Exception):
    """The upload is not an image we accept; `status` is the HTTP answer to give."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Rendition:
    """One encoded image ready to store."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    """What an accepted upload becomes: a display-size image and its thumbnail."""

    display: Rendition
    thumbnail: Rendition
    content_type: str
    extension: str

    @property
    def stored_bytes(self) -> int:
        """Bytes storing it takes (a thumbnail identical to the display size is kept once)."""
        if self.thumbnail.data == self.display.data:
            return len(self.display.data)
        return len(self.display.data) + len(self.thumbnail.data)


def process_image(
    stream: BinaryIO, *, max_pixels: int, display_size: int, thumbnail_size: int
) -> ProcessedImage:
    """Verify `stream` is an accepted image and render its display size and thumbnail.

    The decoded image is turned and resized without copies of its full size, so the
    memory a request needs stays near one decoded frame.
    """
    check_structure(stream, max_pixels=max_pixels)
    stream.seek(0)
    with _opened(stream, max_pixels) as source:
        output_format, content_type, extension = _output_for(source.format)
        upright, icc_profile = _in_kept_mode(
            _decoded_upright(source, display_size), source.info.get("icc_profile")
        )
        display = _fit(upright, display_size)
        thumbnail = _fit(display, thumbnail_size)
        return ProcessedImage(
            display=_encode(display, output_format, icc_profile),
            thumbnail=_encode(thumbnail, output_format, icc_profile),
            content_type=content_type,
            extension=extension,
        )


def check_structure(stream: BinaryIO, *, max_pixels: int | None) -> None:
    """Refuse (ImageRejected) what is no sound JPEG, PNG, WebP or GIF of at most
    `max_pixels` (None: any number a file that is never decoded may have), from its header
    and structure, without decoding its pixels."""
    with _opened(stream, max_pixels) as probe:
        _verify(probe)


@contextmanager
def _opened(stream: BinaryIO, max_pixels: int | None) -> Iterator[Image.Image]:
    """Open the header only and refuse unknown formats and too many pixels (413).

    Pillow warns above its own limit and raises above twice that; both count as a bomb
    when the image is to be decoded (`max_pixels` given). Pillow opens nothing past its
    raised limit in any case.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore" if max_pixels is None else "error", Image.DecompressionBombWarning
            )
            image = Image.open(stream, formats=OPENERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels or 2 * Image.MAX_IMAGE_PIXELS) from None
    except Image.UnidentifiedImageError:
        raise _not_accepted() from None
    except Exception as error:  # a damaged header can raise many things
        log.info("unreadable image header: %r", error)
        raise _damaged() from None
    with image:
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        yield image


def _verify(image: Image.Image) -> None:
    """Pillow's structural check (chunk checksums and the like), without decoding."""
    try:
        image.verify()
    except Exception as error:  # any failure means a damaged file
        log.info("image failed verification: %r", error)
        raise _damaged() from None


def _decoded_upright(source: Image.Image, display_size: int) -> Image.Image:
    """Decode the first frame (JPEGs straight at a reduced scale) and apply EXIF orientation."""
    if source.format in ("JPEG", "MPO"):
        source.draft(None, (display_size, display_size))
    try:
        source.load()
        ImageOps.exif_transpose(source, in_place=True)
    except Exception as error:  # truncated or corrupt data surfaces while decoding
        log.info("image failed to decode: %r", error)
        raise _damaged() from None
    return source


def _in_kept_mode(
    image: Image.Image, icc_profile: bytes | None
) -> tuple[Image.Image, bytes | None]:
    """The image in a kept mode (`_normalised_mode`), and the profile that describes it then.

    CMYK with a CMYK profile goes to sRGB through it, as a print photo's colours are meant;
    a profile of another colour space than the stored pixels' is dropped, as browsers
    would ignore it anyway.
    """
    space = _colour_space(icc_profile)
    if image.mode == "CMYK" and space == b"CMYK":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB"), None
        except (ImageCms.PyCMSError, OSError, ValueError) as error:
            log.info("CMYK profile not usable: %r", error)
    image = _normalised_mode(image)
    fits = _PROFILE_SPACES.get(image.mode) == space
    return image, icc_profile if fits else None


def _colour_space(icc_profile: bytes | None) -> bytes | None:
    """The colour space an ICC profile's header names (`RGB `, `GRAY`, `CMYK`...)."""
    return icc_profile[16:20] if icc_profile and len(icc_profile) >= 128 else None


def _normalised_mode(image: Image.Image) -> Image.Image:
    """RGB, RGBA, L or LA: modes every output format and the resampler handle well.

    Greys of 16 bits (a PNG's `I;16`, or `I`) are scaled down to 8: converted as they are,
    every value above 255 was clipped, and the picture came out white.
    """
    if image.mode in KEPT_MODES:
        return image
    if image.mode.startswith("I"):
        return image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _fit(image: Image.Image, longest_side: int) -> Image.Image:
    """`image` if no side exceeds `longest_side`, else a smaller copy (never enlarged).

    A cheap integer reduction comes first (`reducing_gap`), then Lanczos resampling.
    """
    scale = longest_side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode(image: Image.Image, output_format: str, icc_profile: bytes | None) -> Rendition:
    """Encode with no metadata at all except the colour profile."""
    image.info = {}
    options = dict(SAVE_OPTIONS[output_format])
    if icc_profile:
        options["icc_profile"] = icc_profile
    if output_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=output_format, **options)
    return Rendition(data=buffer.getvalue(), width=image.width, height=image.height)


def _output_for(source_format: str | None) -> tuple[str, str, str]:
    """How to store an image Pillow read as `source_format`; 415 for any other format."""
    output = FORMATS.get(source_format or "")
    if output is None:
        raise _not_accepted()
    return output


def _not_accepted() -> ImageRejected:
    return ImageRejected("This is not an image we accept: send a JPEG, PNG, WebP or GIF file.", 415)


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        f"The image has too many pixels: at most {max_pixels:,} are accepted.", 413
    )


def _damaged() -> ImageRejected:
    return ImageRejected("The image is damaged or truncated and cannot be read.", 400)
