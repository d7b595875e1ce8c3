"""Request and response shapes of the files API."""

from __future__ import annotations

from apiflask.fields import UploadFile
from flask import url_for
from pydantic import BaseModel, computed_field

from ..apikit import OutputModel


class UploadIn(BaseModel):
    file: UploadFile


class FileOut(OutputModel):
    id: int
    filename: str
    content_type: str
    size: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return url_for("media_api.get_file", file_id=self.id)
