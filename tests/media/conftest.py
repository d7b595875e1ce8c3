"""Fixtures of the media tests: a fresh upload folder per test and an upload helper."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path, monkeypatch) -> Path:
    """An upload folder of this test's own, so counting stored files means something."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    return folder


@pytest.fixture
def upload() -> Callable[..., Any]:
    """`upload(client, data, filename, path="/api/images")`: post `data` as multipart `file`."""

    def post(
        client,
        data: bytes,
        filename: str = "photo.png",
        path: str = "/api/images",
        content_type: str = "application/octet-stream",
    ):
        return client.post(
            path,
            data={"file": (io.BytesIO(data), filename, content_type)},
            content_type="multipart/form-data",
        )

    return post
