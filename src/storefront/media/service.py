"""Upload rules: what may be stored, under which name, and who may read it back."""

from __future__ import annotations

import re

from flask import current_app
from werkzeug.datastructures import FileStorage

from ..accounts.models import User
from ..apikit import ApiError
from ..auth import is_staff
from ..extensions import db
from .models import StoredFile
from .sniff import sniff_content_type
from .storage import get_storage

SNIFF_BYTES = 4096
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")


def display_name(client_name: str | None) -> str:
    """A harmless name to show and offer on download; never used as a storage path."""
    name = (client_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("", name).strip().lstrip(".")
    name = name.encode("utf-8", "ignore").decode("utf-8")
    return name[:255] or "upload"


def store_upload(owner: User, upload: FileStorage) -> StoredFile:
    """Check the content against the allow-list, store the bytes, record who owns them."""
    head = upload.stream.read(SNIFF_BYTES)
    if not head:
        raise ApiError("The file is empty.", fields={"file": "empty file"})
    content_type = sniff_content_type(head)
    allowed = current_app.config["UPLOAD_ALLOWED_TYPES"]
    if content_type not in allowed:
        raise ApiError(
            "This type of file is not accepted. Allowed: " + ", ".join(allowed) + ".",
            status=415,
        )
    upload.stream.seek(0)
    key, sha, size = get_storage().save(upload.stream)
    record = StoredFile(
        owner_id=owner.id,
        filename=display_name(upload.filename),
        content_type=content_type,
        size=size,
        sha256=sha,
        storage_key=key,
    )
    db.session.add(record)
    db.session.commit()
    return record


def readable_file(file_id: int, user: User) -> StoredFile | None:
    """The file if `user` owns it or is staff; None otherwise so existence does not leak."""
    record = db.session.get(StoredFile, file_id)
    if record is None or (record.owner_id != user.id and not is_staff(user)):
        return None
    return record
