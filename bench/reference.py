"""The reference: a product read done the tutorial's way, for comparison with the shop.

A Flask-SQLAlchemy model of the shop's `products` table and a route that returns
`db.session.get(Product, id)` as a dict: the pattern of the tutorial Storefront grew from,
with none of the shop's sessions, limits, validation or logging. `run.py` serves it with the
same gunicorn settings, on the same database, in the same run as the shop and the ceiling.
"""

import os

from flask import Flask, abort
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app, model_class=Base)


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str]
    name: Mapped[str]
    description: Mapped[str]
    price_cents: Mapped[int]
    currency: Mapped[str]
    stock: Mapped[int]
    active: Mapped[bool]


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/products/<int:product_id>")
def get_product(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price_cents": product.price_cents,
        "currency": product.currency,
        "stock": product.stock,
        "active": product.active,
    }
