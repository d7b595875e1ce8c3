"""Upload rules: what may be stored, under which name, who may read or delete it, how much.

Bytes live in storage under content keys; rows in `files` say who owns which bytes. The
rules here never build a storage path from a client's name.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, func, inspect, or_, select, update
from werkzeug.datastructures import FileStorage

from ..accounts.models import User
from ..accounts.service import hold_own_account
from ..apikit import ApiError
from ..auth import is_staff
from ..catalog.models import Product
from ..catalog.service import lock_product
from ..extensions import (
    begin_write_transaction,
    commits_keep_what_was_read,
    db,
    delete_row,
    utcnow,
)
from .images import ImageRejected, ProcessedImage, check_structure, process_image
from .models import ProductImage, StoredFile
from .sniff import EXTENSIONS, sniff_content_type
from .storage import StorageUnavailable, get_storage

#: The longest file name kept, in characters.
MAX_NAME_LENGTH = 255
#: Unicode categories no file name needs: controls, invisible formatting (such as the
#: right-to-left override that shows `invoice\u202efdp.bat` as `invoicetab.pdf`), line breaks.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
#: Formatting characters that are part of how words are written, kept: the zero-width
#: non-joiner (Persian, Indic scripts) and joiner (emoji sequences such as 👩‍💻).
_JOINERS = frozenset({"\u200c", "\u200d"})


def display_name(client_name: str | None) -> str:
    """A harmless name to show and offer on download; never used as a storage path."""
    name = (client_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in name if c in _JOINERS or unicodedata.category(c) not in _HIDDEN_CATEGORIES
    )
    name = name.strip().lstrip(".")
    name = name.encode("utf-8", "ignore").decode("utf-8")
    if len(name) > MAX_NAME_LENGTH:  # cut the stem, so the extension still says the type
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: MAX_NAME_LENGTH - len(suffix)] + suffix
    return name or "upload"


def name_with_extension(client_name: str | None, extension: str) -> str:
    """The display name with the extension of what was actually stored (a PNG stays .png)."""
    stem = PurePosixPath(display_name(client_name)).stem
    return f"{stem[:240]}.{extension}"


def upload_name(client_name: str | None, content_type: str) -> str:
    """The display name, if its extension says the content's type (`EXTENSIONS`), or text
    has none; else the stem with the type's usual extension: `a.html` holding a PNG is
    offered as `a.png`, `invoice.zip` holding text as `invoice.txt`."""
    name = display_name(client_name)
    extension = PurePosixPath(name).suffix.lower().removeprefix(".")
    said = EXTENSIONS[content_type]
    if extension in said or (not extension and content_type == "text/plain"):
        return name
    return name_with_extension(client_name, said[0])


def store_upload(owner: User, upload: FileStorage) -> StoredFile:
    """Check the content against the allow-list and the quota, store the bytes, record owner.

    An image's structure is checked as well as its signature, so what is served as an
    image is one.
    """
    _refuse_empty(upload)
    content_type = sniff_content_type(upload.stream)
    allowed = current_app.config["UPLOAD_ALLOWED_TYPES"]
    if content_type not in allowed:
        raise ApiError(
            "This type of file is not accepted. Allowed: " + ", ".join(allowed) + ".",
            status=415,
        )
    if content_type.startswith("image/"):
        upload.stream.seek(0)
        try:  # stored as it came and never decoded here: any number of pixels
            check_structure(upload.stream, max_pixels=None)
        except ImageRejected as rejected:
            raise ApiError(rejected.message, status=rejected.status) from None
    upload.stream.seek(0, io.SEEK_END)
    _hold_owner(owner)
    ensure_quota(owner, upload.stream.tell())
    upload.stream.seek(0)
    [(key, sha, size)] = _store_bytes(upload.stream)
    record = StoredFile(
        owner_id=owner.id,
        filename=upload_name(upload.filename, content_type),
        content_type=content_type,
        size=size,
        sha256=sha,
        storage_key=key,
    )
    db.session.add(record)
    with commits_keep_what_was_read():
        db.session.commit()
    return record


def _refuse_empty(upload: FileStorage) -> None:
    """400 for a file with no bytes, whatever route it was sent to: it was not sent at all."""
    if not upload.stream.read(1):
        raise ApiError("The file is empty.", fields={"file": "empty file"})
    upload.stream.seek(0)


@dataclass(frozen=True)
class CheckedImage:
    """An uploaded image that passed the checks, re-encoded but not stored yet."""

    processed: ProcessedImage
    filename: str | None


def check_image(upload: FileStorage) -> CheckedImage:
    """Decode and re-encode an upload, or refuse it (ApiError), before anything is written.

    The request's transaction ends first: on SQLite an unsafe request's transaction holds
    the write lock, and no other writer should wait while an image is decoded.
    """
    db.session.commit()
    _refuse_empty(upload)
    config = current_app.config
    try:
        processed = process_image(
            upload.stream,
            max_pixels=config["IMAGE_MAX_PIXELS"],
            display_size=config["IMAGE_DISPLAY_SIZE"],
            thumbnail_size=config["IMAGE_THUMBNAIL_SIZE"],
        )
    except ImageRejected as rejected:
        raise ApiError(rejected.message, status=rejected.status) from None
    return CheckedImage(processed, upload.filename)


def _hold_owner(owner: User) -> None:
    """Hold the uploader's account (`hold_own_account`) until the file's row is committed.

    Two uploads of one owner then run one after the other, so the second checks the quota
    against what the first stored; and a delete of the account waits, instead of making the
    row's insert fail on its foreign key. A deleted account is logged out: 401.
    """
    hold_own_account(owner)


def store_image(owner: User, upload: FileStorage) -> StoredFile:
    """Verify and re-encode an uploaded image; store its display size and thumbnail."""
    image = check_image(upload)
    _hold_owner(owner)
    ensure_quota(owner, image.processed.stored_bytes)
    record = _new_image(owner, image, public=False)
    with commits_keep_what_was_read():
        db.session.commit()
    return record


def set_product_image(product: Product, owner: User, image: CheckedImage) -> Product:
    """Make a checked image the product's public picture; the previous one is deleted.

    Product pictures are shop assets: anyone may see them and they use no one's quota.
    The product's row is held from before its current picture is read until the new one
    is committed, so of two uploads at once the second replaces the first's picture (none
    is left behind unused), and an upload for a product deleted meanwhile is a 404. The
    uploader's account is held first, as checkout holds the buyer's before the products.
    """
    product_id = inspect(product).identity[0]  # it may be gone by now: do not load it
    _hold_owner(owner)
    product = lock_product(product_id)
    record = _new_image(owner, image, public=True)
    product.updated_at = utcnow()  # its image_url changed: clients keyed on it must refetch
    link = db.session.get(ProductImage, product_id, populate_existing=True)
    previous = db.session.get(StoredFile, link.file_id) if link else None
    if link is None:
        db.session.add(ProductImage(product_id=product_id, file_id=record.id))
    else:
        link.file_id = record.id
    db.session.flush()
    db.session.refresh(product)  # the answer shows the new picture
    with commits_keep_what_was_read():
        if previous is None:
            db.session.commit()
        else:
            delete_file(previous)
    return product


def _new_image(owner: User, image: CheckedImage, *, public: bool) -> StoredFile:
    """Store both renditions and add (not commit) the file's row."""
    processed = image.processed
    (key, sha, size), (thumb_key, thumb_sha, thumb_size) = _store_bytes(
        io.BytesIO(processed.display.data), io.BytesIO(processed.thumbnail.data)
    )
    record = StoredFile(
        owner_id=owner.id,
        filename=name_with_extension(image.filename, processed.extension),
        content_type=processed.content_type,
        size=size,
        sha256=sha,
        storage_key=key,
        width=processed.display.width,
        height=processed.display.height,
        thumbnail_key=thumb_key,
        thumbnail_sha256=thumb_sha,
        thumbnail_size=thumb_size,
        public=public,
    )
    db.session.add(record)
    db.session.flush()
    return record


def _store_bytes(*streams: BinaryIO) -> list[tuple[str, str, int]]:
    """Store each stream for a row about to be added: `(key, sha256, size)` of each.

    The bytes are held (`_hold_bytes`) until the row is committed, so a delete of another
    row with the same content cannot remove them from under it. A delete that removed them
    between the save and the hold has committed by the time the hold is granted: they are
    saved again.
    """
    storage = get_storage()
    try:
        stored = [storage.save(stream) for stream in streams]
        for key in sorted({key for key, _sha, _size in stored}):
            _hold_bytes(key)
        for stream, (key, _sha, _size) in zip(streams, stored, strict=True):
            if not storage.exists(key):
                stream.seek(0)
                storage.save(stream)
    except OSError as error:
        raise StorageUnavailable(error) from error
    return stored


def _hold_bytes(key: str) -> None:
    """Hold the bytes of `key` until the transaction ends: storing them for a new row and
    removing them once no row needs them run one after the other.

    PostgreSQL: a transaction-level advisory lock on the key; on SQLite the write
    transaction already holds everything.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        lock_id = int.from_bytes(digest, "big", signed=True)
        db.session.execute(select(func.pg_advisory_xact_lock(lock_id)))


def hand_over_pictures(owner_id: int, heir_id: int | None) -> None:
    """Give the public files (product pictures) of `owner_id` to `heir_id` (not committed).

    A file goes with its owner's account; a product picture is the shop's and stays on its
    product. With no heir, the pictures go with the account.
    """
    if heir_id is None:
        return
    db.session.execute(
        update(StoredFile)
        .where(StoredFile.owner_id == owner_id, StoredFile.public.is_(True))
        .values(owner_id=heir_id)
        .execution_options(synchronize_session=False)
    )


def used_bytes(owner_id: int) -> int:
    """Bytes of private files `owner_id` has stored, each row counted even if deduplicated.

    A thumbnail that is the very same bytes as its image (small images) counts once.
    """
    thumbnail_bytes = case(
        (StoredFile.thumbnail_key == StoredFile.storage_key, 0),
        else_=func.coalesce(StoredFile.thumbnail_size, 0),
    )
    total = db.session.scalar(
        select(func.coalesce(func.sum(StoredFile.size + thumbnail_bytes), 0)).where(
            StoredFile.owner_id == owner_id, StoredFile.public.is_(False)
        )
    )
    return int(total or 0)


def ensure_quota(owner: User, incoming: int) -> None:
    """413 when storing `incoming` more bytes would take `owner` over the quota."""
    quota = current_app.config["MEDIA_QUOTA_BYTES"]
    used = used_bytes(owner.id)
    if used + incoming > quota:
        raise ApiError(
            f"Storage quota exceeded: you use {used:,} of {quota:,} bytes and this file "
            f"needs {incoming:,} more. Delete some files first.",
            status=413,
            quota_bytes=quota,
            used_bytes=used,
        )


def readable_file(file_id: int, user: User | None) -> tuple[StoredFile, bool] | None:
    """The file and whether anyone may read it, or None when `user` may not.

    Anyone may read the picture of a product on sale; its owner and staff any file. The
    picture of a product not on sale yet (or no more) is as private as an upload until
    then, so a launch is not given away by guessing file ids. None for someone else's
    private file too, so its existence does not leak.
    """
    record = db.session.get(StoredFile, file_id)
    if record is None:
        return None
    if record.public and _pictures_a_product_on_sale(file_id):
        return record, True
    if user is None or (record.owner_id != user.id and not is_staff(user)):
        return None
    return record, False


def _pictures_a_product_on_sale(file_id: int) -> bool:
    on_sale = (
        select(ProductImage.product_id)
        .join(Product)
        .where(ProductImage.file_id == file_id, Product.active.is_(True))
    )
    return db.session.scalar(on_sale.exists().select()) or False


def deletable_file(file_id: int, user: User) -> StoredFile | None:
    """The file if `user` may delete it, else None (a 404, even for public files).

    Staff may delete any file, anyone else only a private file of their own: a product
    picture is the shop's, not its uploader's, so one no longer staff cannot remove it.
    """
    record = db.session.get(StoredFile, file_id)
    if record is None or is_staff(user):
        return record
    return record if record.owner_id == user.id and not record.public else None


def delete_file(record: StoredFile) -> bool:
    """Delete the row, then the bytes it pointed at that no other row still needs.

    A product whose picture it was is left without one, and marked updated.

    False when another request deleted the row first: that one has answered for it, this
    one is a 404.
    """
    keys = {record.storage_key, record.thumbnail_key} - {None}
    pictured = select(ProductImage.product_id).where(ProductImage.file_id == record.id)
    db.session.execute(  # its image_url turns null: clients keyed on updated_at must refetch
        update(Product)
        .where(Product.id.in_(pictured))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    deleted = delete_row(record)
    db.session.commit()
    delete_unreferenced(keys)
    return deleted


def delete_picture_file(file_id: int) -> None:
    """Delete a product picture that no product shows any more (its product was erased),
    so its public URL stops answering; one that is still shown stays."""
    record = db.session.scalar(select(StoredFile).where(StoredFile.id == file_id, _unshown()))
    if record is not None:
        delete_file(record)


def delete_unreferenced(keys: set[str]) -> set[str]:
    """Delete the bytes of those `keys` no row points at any more (after a committed delete);
    returns the keys deleted.

    Each key is held (`_hold_bytes`) while it is checked and deleted, so an upload of the
    same content either commits its row first, and the bytes stay, or saves them again.
    """
    begin_write_transaction()
    storage = get_storage()
    deleted = set()
    for key in sorted(keys):
        _hold_bytes(key)
        if not is_referenced(key):
            storage.delete(key)
            deleted.add(key)
    db.session.commit()
    return deleted


def is_referenced(key: str) -> bool:
    """Whether any row points at the bytes of `key`, as a file or as a thumbnail."""
    statement = select(StoredFile.id).where(
        or_(StoredFile.storage_key == key, StoredFile.thumbnail_key == key)
    )
    return db.session.scalar(statement.limit(1)) is not None


def unused_public_files() -> list[StoredFile]:
    """Public images no product shows any more: left behind when the shop stopped between
    erasing a product and deleting its picture."""
    statement = select(StoredFile).where(_unshown())
    return list(db.session.scalars(statement.order_by(StoredFile.id)))


def _unshown() -> ColumnElement[bool]:
    """A file that is a product picture (public) which no product shows."""
    in_use = select(ProductImage.file_id).where(ProductImage.file_id == StoredFile.id)
    return and_(StoredFile.public.is_(True), ~in_use.exists())


def referenced_keys(owner_id: int | None = None) -> set[str]:
    """Every key the files point at (bytes and thumbnails): all of them, for `storefront
    media check`, or those of one owner, whose deleted account may leave them unused."""
    statement = select(StoredFile.storage_key, StoredFile.thumbnail_key)
    if owner_id is not None:
        statement = statement.where(StoredFile.owner_id == owner_id)
    keys: set[str] = set()
    for key, thumb_key in db.session.execute(statement):
        keys.add(key)
        if thumb_key:
            keys.add(thumb_key)
    return keys
