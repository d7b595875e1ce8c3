"""The reference: a product read done the tutorial's way, and the floor beneath any read.

A Flask-SQLAlchemy model of the shop's `products` table and a route that returns
`db.session.get(Product, id)` as a dict: the pattern of the tutorial Storefront grew from,
with none of the shop's sessions, limits, validation or logging. Beside it, the floor: the
same row read by one query on a connection the worker keeps, with no ORM and no
transaction, the fewest round trips and the least Python any database-backed read can cost.
`run.py` serves both with the same gunicorn settings, on the same database, in the same run
as the shop and the ceiling.
"""

import os
from typing import Any

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


_floor_connection: Any = None
FLOOR_QUERY = (
    "SELECT id, sku, name, description, price_cents, currency, stock, active FROM products"
)
FLOOR_BY_ID = {"qmark": FLOOR_QUERY + " WHERE id = ?", "pyformat": FLOOR_QUERY + " WHERE id = %s"}


def floor_connection() -> Any:
    """This worker's own driver connection in autocommit mode, checked out once and kept."""
    global _floor_connection
    if _floor_connection is None:
        _floor_connection = db.engine.raw_connection()
        if db.engine.dialect.name == "sqlite":
            _floor_connection.driver_connection.isolation_level = None
        else:
            _floor_connection.driver_connection.autocommit = True
    return _floor_connection


@app.get("/floor/products/<int:product_id>")
def get_product_floor(product_id: int):
    cursor = floor_connection().cursor()
    cursor.execute(FLOOR_BY_ID[db.engine.dialect.paramstyle], (product_id,))
    row = cursor.fetchone() or abort(404)
    return dict(zip((column[0] for column in cursor.description), row, strict=True))
