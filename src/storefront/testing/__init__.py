"""Test kit: `storefront.testing.plugin` is a pytest plugin; factories live beside it."""
