"""Files API: upload a file, fetch it back."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import abort, send_file

from ..apikit import created_headers
from ..auth import current_user, login_required
from . import service
from .schemas import FileOut, UploadIn
from .storage import get_storage

bp = APIBlueprint("media_api", __name__, url_prefix="/api", tag="Files")


@bp.post("/upload")
@login_required
@bp.input(UploadIn, location="files", arg_name="body")
@bp.output(FileOut, status_code=201)
def upload(body: UploadIn):
    """Upload a file (multipart field `file`); its content decides whether it is accepted."""
    record = service.store_upload(current_user, body.file)
    return record, 201, created_headers("media_api.get_file", file_id=record.id)


@bp.get("/files/<int:file_id>")
@login_required
@bp.doc(responses={200: "The file's bytes", 304: "Not modified", 404: "No such file"})
def get_file(file_id: int):
    """The exact bytes of a file, for its owner and staff."""
    record = service.readable_file(file_id, current_user)
    if record is None:
        abort(404, description="No such file.")
    path = get_storage().path(record.storage_key)
    if not path.exists():
        abort(404, description="The file's content is missing.")
    response = send_file(
        path,
        mimetype=record.content_type,
        as_attachment=not record.content_type.startswith("image/"),
        download_name=record.filename,
        etag=record.sha256,
        conditional=True,
        max_age=3600,
    )
    response.cache_control.private = True
    return response
