"""The URLs of a stored file and of its thumbnail, for any page or API that shows one.

<img src="{{ product.thumbnail_url }}">   (Product properties use these)
"""

from __future__ import annotations

from flask import url_for


def file_url(file_id: int | None) -> str | None:
    """Where the file (an image: its display size) is served; None for no file."""
    return None if file_id is None else url_for("media_api.get_file", file_id=file_id)


def thumbnail_url(file_id: int | None) -> str | None:
    """Where an image's thumbnail is served; None for no file."""
    return None if file_id is None else url_for("media_api.get_thumbnail", file_id=file_id)
