"""Tell a file's type from its bytes, never from its name or declared type."""

from __future__ import annotations

import codecs
from typing import BinaryIO

from .storage import CHUNK

#: How much of a file its signature is looked for in.
HEAD_BYTES = 4096
#: The file name extensions that say each type this module names, its usual one first.
#: Text takes those of harmless text only: not of pages or scripts (`.html`, `.bat`), which
#: a browser or the system would run, were the saved file opened.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "text/plain": (
        *("txt", "text", "md", "markdown", "rst", "csv", "tsv", "json", "log"),
        *("ini", "cfg", "conf", "toml", "yaml", "yml"),
    ),
}
#: The first bytes of each binary type.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def sniff_content_type(stream: BinaryIO) -> str | None:
    """The content type the bytes of `stream` prove, or None when they prove none.

    A signature in the first bytes names a binary type. Text must be UTF-8 without NUL
    from its first byte to its last, so a text head cannot carry an archive or a program
    behind it. Reads the stream; the caller rewinds it.
    """
    head = stream.read(HEAD_BYTES)
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return "text/plain" if head and _rest_is_text(head, stream) else None


def _rest_is_text(head: bytes, stream: BinaryIO) -> bool:
    """Whether `head` and the rest of `stream` are UTF-8 text without NUL characters."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    try:
        while chunk:
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
            chunk = stream.read(CHUNK)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
