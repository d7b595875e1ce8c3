"""The image and quota settings: read from the environment, checked, and honoured."""

from __future__ import annotations

import pytest
from media_samples import make_image, opened

from storefront import create_app
from storefront.config import ConfigError


@pytest.mark.parametrize(
    "name", ["IMAGE_MAX_PIXELS", "IMAGE_DISPLAY_SIZE", "IMAGE_THUMBNAIL_SIZE", "MEDIA_QUOTA_BYTES"]
)
@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_bad_media_setting_stops_the_start(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=name):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_a_pixel_cap_beyond_what_pillow_decodes_stops_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("IMAGE_MAX_PIXELS", "100000000")

    with pytest.raises(ConfigError, match="IMAGE_MAX_PIXELS must be a whole number from 1 to 89"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_sizes_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("IMAGE_THUMBNAIL_SIZE", "100")

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    assert app.config["IMAGE_THUMBNAIL_SIZE"] == 100
    assert app.config["IMAGE_DISPLAY_SIZE"] == 1280


def test_configured_sizes_are_used(app, client, user, login_as, upload, monkeypatch):
    monkeypatch.setitem(app.config, "IMAGE_DISPLAY_SIZE", 400)
    monkeypatch.setitem(app.config, "IMAGE_THUMBNAIL_SIZE", 100)
    login_as(client, user)

    body = upload(client, make_image("PNG", (1000, 500))).get_json()

    assert (body["width"], body["height"]) == (400, 200)
    assert opened(client.get(body["thumbnail_url"]).data).size == (100, 50)
