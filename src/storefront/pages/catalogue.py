"""The shop window: the catalogue with search, sort and pages, and one page per product."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..auth import current_user, is_staff
from ..catalog import service as catalog
from .display import PageOfResults
from .forms import AddToCartForm, CatalogueQueryForm, requested_page

bp = Blueprint("catalogue", __name__, template_folder="templates")

PER_PAGE = 12


def _read_query() -> CatalogueQueryForm:
    """The search form filled from `?q=&sort=`; what does not validate falls back."""
    form = CatalogueQueryForm(request.args)
    if not form.validate():
        if form.q.errors:
            form.q.data = ""
        if form.sort.errors:
            form.sort.data = "name"
    return form


def _kept_query(form: CatalogueQueryForm) -> dict[str, str]:
    """The search and sort the pager's links carry on: only those set to something useful."""
    kept = {"q": form.q.data, "sort": form.sort.data}
    return {name: value for name, value in kept.items() if value and value != form[name].default}


@bp.get("/")
def index():
    """Active products, searched by name or description, sorted, twelve to a page."""
    form = _read_query()
    page = requested_page()
    products, total = catalog.catalogue_page(form.q.data, form.sort.data, page, PER_PAGE)
    results = PageOfResults(products, page, PER_PAGE, total, _kept_query(form))
    return render_template("catalogue.html", form=form, results=results)


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    """A product's picture, price, stock and the add-to-cart form; 404 if not on sale."""
    item = catalog.get_product(product_id, include_inactive=is_staff(current_user()))
    return render_template("product.html", product=item, form=AddToCartForm())
