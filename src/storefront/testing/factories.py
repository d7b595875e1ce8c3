"""factory_boy factories for test data, bound to the test's rolled-back session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from storefront.accounts.models import User
from storefront.accounts.service import hash_password
from storefront.catalog.models import Product
from storefront.extensions import db

DEFAULT_PASSWORD = "correct-horse-battery-staple"  # noqa: S105


class UserFactory(SQLAlchemyModelFactory):
    """A confirmed customer with password `DEFAULT_PASSWORD` (also on `user.password`)."""

    class Meta:
        model = User
        sqlalchemy_session_factory = staticmethod(lambda: db.session)
        sqlalchemy_session_persistence = "commit"

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = DEFAULT_PASSWORD
    role = "customer"
    confirmed = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Hash the password into the row and keep the plain one on the object for tests."""
        password = kwargs.pop("password")
        kwargs["password_hash"] = hash_password(password)
        user = super()._create(model_class, *args, **kwargs)
        user.password = password
        return user


class ProductFactory(SQLAlchemyModelFactory):
    """An active product with stock, priced in euro cents (the shop's default currency)."""

    class Meta:
        model = Product
        sqlalchemy_session_factory = staticmethod(lambda: db.session)
        sqlalchemy_session_persistence = "commit"

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    description = factory.LazyAttribute(lambda o: f"A fine {o.name.lower()}.")
    price_cents = 1000
    currency = "EUR"
    stock = 10
    active = True
