"""Request and response shapes of the files and images API."""

from __future__ import annotations

from apiflask.fields import UploadFile
from pydantic import BaseModel, computed_field

from ..apikit import OutputModel
from . import urls


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
        return urls.file_url(self.id)


class ImageOut(OutputModel):
    """An accepted image: `url` is its display size (at most 1280 px by default)."""

    id: int
    width: int
    height: int
    content_type: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return urls.file_url(self.id)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str:
        return urls.thumbnail_url(self.id)
