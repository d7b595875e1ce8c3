"""The shop's own pytest plugin gives the fixtures (`app`, `client`, `db`, factories...)."""

import pytest

pytest_plugins = ["storefront.testing.plugin", "storefront.testing.browser"]


@pytest.fixture
def shopper(client, login_as, user):
    """A customer logged in on `client` (the cart, checkout and order tests' buyer)."""
    login_as(client, user)
    return user
