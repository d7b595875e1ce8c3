"""Catalogue API: anyone browses active products; staff and admins manage them."""

from __future__ import annotations

from apiflask import APIBlueprint

from ..apikit import created_headers, empty_response, page_headers
from ..auth import current_user, is_staff, staff_required
from . import service
from .schemas import ProductCreate, ProductOut, ProductQuery, ProductUpdate

bp = APIBlueprint("catalog_api", __name__, url_prefix="/api", tag="Catalogue")


@bp.get("/products")
@bp.input(ProductQuery, location="query", arg_name="query")
@bp.output(list[ProductOut])
def list_products(query: ProductQuery):
    """Active products, searched with `q` (name, description) and ordered by `sort`."""
    products, total = service.catalogue_page(query.q, query.sort, query.page, query.per_page)
    return products, 200, page_headers(total, query)


@bp.get("/products/<int:product_id>")
@bp.output(ProductOut)
def get_product(product_id: int):
    """One product; an inactive one only for staff and admins."""
    return service.get_product(product_id, include_inactive=is_staff(current_user()))


@bp.post("/products")
@staff_required
@bp.input(ProductCreate, arg_name="body")
@bp.output(ProductOut, status_code=201)
@bp.doc(responses={409: "A product with this SKU exists"})
def create_product(body: ProductCreate):
    """Add a product (staff, admin); 409 when the SKU is taken."""
    product = service.create_product(**body.model_dump())
    return product, 201, created_headers("catalog_api.get_product", product_id=product.id)


@bp.patch("/products/<int:product_id>")
@staff_required
@bp.input(ProductUpdate, arg_name="body")
@bp.output(ProductOut)
@bp.doc(responses={409: "A product with this SKU exists"})
def update_product(product_id: int, body: ProductUpdate):
    """Change some fields of a product (staff, admin)."""
    product = service.get_product(product_id, include_inactive=True)
    return service.update_product(product, **body.model_dump(exclude_unset=True))


@bp.delete("/products/<int:product_id>")
@staff_required
@bp.output({}, status_code=204)
def delete_product(product_id: int):
    """Remove a product (staff, admin); one already ordered is only deactivated."""
    service.delete_product(product_id)
    return empty_response()
