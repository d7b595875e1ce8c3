"""Where uploaded bytes live: content-addressed files under `UPLOAD_FOLDER`.

`save`, `open`, `delete`, `url`, `exists` (an upload re-saves bytes a concurrent delete
took) and `keys` (for `storefront media check`) are the whole interface the rest of the
shop uses; an S3-compatible store would fill the same shape. Install another backend with
`app.extensions["storefront_storage"]`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 64 * 1024
TEMP_PREFIX = ".incoming-"
_KEY = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")


class Storage(Protocol):
    """What a storage backend offers: keys in, bytes out, nothing about rows or users."""

    def save(self, stream: BinaryIO) -> tuple[str, str, int]: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str | None: ...

    def exists(self, key: str) -> bool: ...

    def keys(self) -> Iterator[str]: ...


class StorageUnavailable(Exception):
    """The storage would not keep bytes (a full disk, a read-only mount): an outage the shop
    answers with a 503, not a bug."""


def content_key(sha256: str) -> str:
    """The key of content with this digest: `ab/cd/abcd…`, so no folder grows too large."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class FileSystemStorage:
    """Stores each distinct content once, at `ab/cd/<sha256>`, written atomically.

    Keys are made here from the content's digest, never from a client's file name, so no
    upload can choose where it lands.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file holding `key`; refuses anything that is not a content key."""
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, stream: BinaryIO) -> tuple[str, str, int]:
        """Store `stream`; returns `(key, sha256, size)`.

        The bytes go to a temp file in the same folder that is renamed into place, so a
        crash never leaves a half-written file under a real key. Identical content lands
        on the same key and is kept once.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            sha = digest.hexdigest()
            target = self.path(content_key(sha))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return content_key(sha), sha, size

    def open(self, key: str) -> BinaryIO:
        """The stored bytes, for reading; FileNotFoundError when they are gone."""
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove the bytes of `key` (nothing happens if they are already gone)."""
        self.path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str | None:
        """A direct URL for the bytes; None, since the app itself streams local files."""
        return None

    def exists(self, key: str) -> bool:
        """Whether the bytes of `key` are there."""
        return self.path(key).is_file()

    def keys(self) -> Iterator[str]:
        """Every stored key (temp files of uploads in progress are not keys)."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            key = path.relative_to(self.root).as_posix()
            if _KEY.match(key) and path.is_file():
                yield key


def get_storage() -> Storage:
    """The storage of the current app: a configured backend, else the local folder."""
    backend = current_app.extensions.get("storefront_storage")
    if backend is not None:
        return backend
    return FileSystemStorage(current_app.config["UPLOAD_FOLDER"])
