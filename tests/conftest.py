pytest_plugins = ["storefront.testing.plugin", "storefront.testing.browser"]
