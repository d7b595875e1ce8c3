"""Fixtures of the browser tests beyond the plugin's."""

from __future__ import annotations

import pytest

from storefront.testing.plugin import LiveServer

#: The path `shop_under_prefix` serves the shop under.
PREFIX = "/shop"


@pytest.fixture
def shop_under_prefix(live_server):
    """The live server's shop, served again at `PREFIX` on a port of its own."""
    server = LiveServer(live_server.app, mount=PREFIX)
    server.start()
    yield server
    server.stop()
