pytest_plugins = ["storefront.testing.plugin"]
