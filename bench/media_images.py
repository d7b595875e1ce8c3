"""Image pipeline figures: time to process a 12-megapixel phone JPEG, the memory the largest
accepted PNG needs, and the memory a decompression bomb costs before it is refused.

    .venv/bin/python bench/media_images.py [--runs 5]

Each measurement runs in a fresh child process, so one cannot inflate the other's peak
memory (`ru_maxrss` only ever grows). Pillow's image memory is allocated in C, where
tracemalloc cannot see it: the resident-set growth is the figure that counts.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import statistics
import struct
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

from PIL import ExifTags, Image

from storefront import create_app
from storefront.extensions import db
from storefront.media.images import ImageRejected, process_image
from storefront.testing.factories import UserFactory
from storefront.testing.plugin import migrate_database, testing_config

SETTINGS = {"max_pixels": 40_000_000, "display_size": 1280, "thumbnail_size": 320}


def phone_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG with photo-like detail (gradients and sensor noise), EXIF-rotated."""
    noise = Image.effect_noise((width, height), 20)
    red = Image.linear_gradient("L").resize((width, height))
    blue = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    image = Image.merge("RGB", (red, noise, blue))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (52.0, 31.0, 12.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def largest_png(width: int = 8000, height: int = 5000) -> bytes:
    """A 40 MP PNG (the default pixel cap) that compresses well enough to be uploaded."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG of a few hundred bytes declaring `width`×`height` grey pixels (2.5 GB decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(data: bytes, queue: multiprocessing.Queue) -> None:
    """In a child: process `data` once, report outcome, seconds, Python peak, RSS growth."""
    before = _max_rss_kib()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = process_image(io.BytesIO(data), **SETTINGS)
        outcome = f"{result.display.width}x{result.display.height} {result.content_type}"
    except ImageRejected as rejected:
        outcome = f"refused {rejected.status}: {rejected.message}"
    seconds = time.perf_counter() - started
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    queue.put((outcome, seconds, python_peak, _max_rss_kib() - before))


def measure(data: bytes) -> tuple[str, float, int, int]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_measure, args=(data, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def upload_times(data: bytes, runs: int) -> list[float]:
    """Seconds for `POST /api/images` end to end (app, storage, SQLite), `runs` times."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(testing_config(f"sqlite:///{tmp}/bench.db", Path(tmp) / "uploads"))
        migrate_database(app)
        with app.app_context():
            user_id = UserFactory().id
            client = app.test_client()
            with client.session_transaction() as session:
                session["user_id"] = user_id
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.post(
                    "/api/images",
                    data={"file": (io.BytesIO(data), "IMG_0001.JPG", "image/jpeg")},
                    content_type="multipart/form-data",
                )
                times.append(time.perf_counter() - started)
                assert response.status_code == 201, response.get_json()
            db.engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    photo = phone_jpeg()
    print(f"12 MP JPEG (4000x3000, EXIF orientation 6 + GPS): {len(photo) / 1e6:.1f} MB")
    results = [measure(photo) for _ in range(runs)]
    times = [seconds for _, seconds, _, _ in results]
    print(f"  outcome: {results[0][0]}")
    print(
        f"  process (verify, decode, upright, 1280 px + 320 px, re-encode): "
        f"median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {runs} runs"
    )
    print(f"  peak RSS growth: {results[0][3] / 1024:.1f} MiB")
    http = upload_times(photo, runs)
    print(
        f"  POST /api/images end to end (SQLite, local disk): "
        f"median {statistics.median(http) * 1000:.0f} ms over {runs} runs"
    )

    biggest = largest_png()
    outcome, seconds, _, rss_growth = measure(biggest)
    print(f"PNG of 40 MP (8000x5000, the default cap; {len(biggest) / 1e3:.0f} kB): {outcome}")
    print(f"  processed in {seconds * 1000:.0f} ms; peak RSS growth {rss_growth / 1024:.0f} MiB")

    bomb = bomb_png()
    outcome, seconds, python_peak, rss_growth = measure(bomb)
    print(f"Bomb PNG declaring 50000x50000 ({len(bomb)} bytes): {outcome}")
    print(
        f"  refused in {seconds * 1000:.1f} ms; Python peak {python_peak / 1024:.0f} KiB; "
        f"peak RSS growth {rss_growth / 1024:.2f} MiB"
    )


if __name__ == "__main__":
    main()
