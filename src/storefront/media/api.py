"""Files API: upload a file or an image, fetch it (or its thumbnail) back, delete it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from apiflask import APIBlueprint, FileSchema
from flask import Response, abort, redirect, request
from werkzeug.wsgi import FileWrapper

from ..apikit import ApiError, created_headers, empty_response, unknown_fields
from ..auth import current_user, login_required, staff_required
from ..catalog import service as catalog_service
from ..catalog.schemas import ProductOut
from ..conditional import answer_conditionally
from . import service
from .models import StoredFile
from .schemas import FileOut, ImageOut, UploadIn
from .storage import CHUNK, get_storage

bp = APIBlueprint("media_api", __name__, url_prefix="/api", tag="Files")

#: Pictures of products on sale never change under their URL: let browsers and proxies
#: keep them.
PUBLIC_CACHE = "public, max-age=31536000, immutable"
#: Private files: only the browser may keep them, and it asks again (a cheap 304) each time.
PRIVATE_CACHE = "private, no-cache"
#: What a download carries, as `_send` writes it; a 304 carries the same.
DOWNLOAD_HEADERS = {
    "ETag": {
        "description": "Strong validator of the bytes: send it back in `If-None-Match`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": f"`{PUBLIC_CACHE}` for pictures of products on sale, else "
        f"`{PRIVATE_CACHE}`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Content-Disposition": {
        "description": "`inline` for images, `attachment` for other files, with the file's name.",
        "required": True,
        "schema": {"type": "string"},
    },
}
FILE_RESPONSES = {
    200: {"headers": DOWNLOAD_HEADERS},
    304: {
        "description": "Not modified: `If-None-Match` names the current ETag. No body.",
        "headers": DOWNLOAD_HEADERS,
    },
    401: "Not logged in, and the file is not public (or does not exist)",
    404: "No such file, or another user's private one",
    412: "`If-Match` names no current ETag of the file",
}


def only_the_file_part(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (400) a multipart body with parts besides `file`, as an unknown JSON field is,
    so an option a client thinks it sends (`private=0`) is not silently ignored."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        names = [*request.form.keys(), *request.files.keys()]
        if fields := unknown_fields(name for name in names if name != "file"):
            raise ApiError(
                "Send the file as the one part `file`, with no other parts.", fields=fields
            )
        return view(*args, **kwargs)

    return checked


@bp.post("/upload")
@login_required
@bp.input(UploadIn, location="files", arg_name="body")
@only_the_file_part
@bp.output(FileOut, status_code=201)
@bp.doc(responses={413: "Over the size limit or the quota", 415: "A type that is not allowed"})
def upload(body: UploadIn):
    """Upload a file (multipart field `file`); its content decides whether it is accepted."""
    record = service.store_upload(current_user(), body.file)
    return record, 201, created_headers("media_api.get_file", file_id=record.id)


@bp.post("/images")
@login_required
@bp.input(UploadIn, location="files", arg_name="body")
@only_the_file_part
@bp.output(ImageOut, status_code=201)
@bp.doc(responses={400: "Damaged image", 413: "Too large or too many pixels", 415: "No image"})
def upload_image(body: UploadIn):
    """Upload an image (multipart field `file`).

    The content must be a JPEG, PNG, WebP or GIF (first frame); it is verified, turned
    upright, stripped of metadata and stored at display size with a thumbnail.
    """
    record = service.store_image(current_user(), body.file)
    return record, 201, created_headers("media_api.get_file", file_id=record.id)


@bp.put("/products/<int:product_id>/image")
@staff_required
@bp.input(UploadIn, location="files", arg_name="body")
@only_the_file_part
@bp.output(ProductOut)
@bp.doc(tags=["Catalogue"], responses={404: "No such product", 413: "Too many pixels"})
def put_product_image(product_id: int, body: UploadIn):
    """Set a product's picture from an uploaded image (staff, admin).

    The image is checked as by `POST /api/images`, becomes public and replaces the
    previous picture; the answer is the product with its `image_url`.
    """
    product = catalog_service.get_product(product_id, include_inactive=True)
    image = service.check_image(body.file)
    return service.set_product_image(product, current_user(), image)


@bp.get("/files/<int:file_id>")
@bp.output(FileSchema(), content_type="*/*", description="The bytes, in the type they have")
@bp.doc(responses=FILE_RESPONSES)
def get_file(file_id: int):
    """The bytes of a file (of an image: its display size); public ones for anyone."""
    record, for_everyone = _readable(file_id)
    return _send(record, record.storage_key, record.sha256, record.size, for_everyone)


@bp.get("/files/<int:file_id>/thumbnail")
@bp.output(FileSchema(), content_type="*/*", description="The thumbnail's bytes")
@bp.doc(responses=FILE_RESPONSES)
def get_thumbnail(file_id: int):
    """The thumbnail of an image."""
    record, for_everyone = _readable(file_id)
    if not record.is_image:
        abort(404, description="This file has no thumbnail.")
    sent = (record.thumbnail_key, record.thumbnail_sha256, record.thumbnail_size)
    return _send(record, *sent, for_everyone)


@bp.delete("/files/<int:file_id>")
@login_required
@bp.doc(responses={204: "Deleted", 404: "No such file"})
def delete_file(file_id: int):
    """Delete a file (its owner, staff; a product picture: staff only); its bytes go once
    no other file shares them."""
    record = service.deletable_file(file_id, current_user())
    if record is None or not service.delete_file(record):
        abort(404, description="No such file.")
    return empty_response()


def _readable(file_id: int) -> tuple[StoredFile, bool]:
    """The file and whether anyone may read it; 401 for anonymous visitors and 404 for
    users it is hidden from."""
    user = current_user()
    readable = service.readable_file(file_id, user)
    if readable is None:
        if user is None:
            abort(401, description="Log in first.")
        abort(404, description="No such file.")
    return readable


def _send(record: StoredFile, key: str, etag: str, size: int, for_everyone: bool) -> Response:
    """Stream stored bytes with their type, length, strong ETag and caching rules.

    The bytes are opened before answering: a delete of the file at the same moment then
    either comes first (a 404) or lets this download finish from the open file, rather
    than break it once its 200 is under way. A 304 closes it at once, and the body closes
    it when read to the end or abandoned, so no file is left open.
    """
    storage = get_storage()
    direct_url = storage.url(key)
    if direct_url:
        return redirect(direct_url)
    try:
        stream = storage.open(key)
    except FileNotFoundError:
        abort(404, description="The file's content is missing.")
    response = Response(
        _FileChunks(stream, CHUNK), mimetype=record.content_type, direct_passthrough=True
    )
    response.content_length = size
    response.set_etag(etag)
    response.headers["Cache-Control"] = PUBLIC_CACHE if for_everyone else PRIVATE_CACHE
    response.headers["Content-Disposition"] = _disposition(record)
    response = answer_conditionally(response)
    if response.status_code == 304:
        stream.close()
    return response


class _FileChunks(FileWrapper):
    """The open file's bytes in chunks, closed once read to the end (or when the server
    closes an abandoned download), so no open file waits for the response to be dropped."""

    def __next__(self) -> bytes:
        try:
            return super().__next__()
        except StopIteration:
            self.close()
            raise


def _disposition(record: StoredFile) -> str:
    """`inline` for images, `attachment` for anything else, with a safe file name."""
    kind = "inline" if record.content_type.startswith("image/") else "attachment"
    ascii_name = unicodedata.normalize("NFKD", record.filename).encode("ascii", "ignore")
    fallback = ascii_name.decode("ascii").replace('"', "").replace("\\", "") or "download"
    quoted = quote(record.filename, safe="!#$&+-.^_`|~")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"
