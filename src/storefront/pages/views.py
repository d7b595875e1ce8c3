"""HTML pages."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)

from ..apikit import readable_size
from ..auth import current_user, is_staff
from ..catalog.service import shop_currency
from ..conditional import answer_conditionally
from ..extensions import limiter
from ..orders.service import MAX_QUANTITY
from . import service
from .display import few_left, money, stock_label
from .forms import ContactForm

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.app_context_processor
def layout_context() -> dict[str, object]:
    """What every page may need: who is logged in and whether they are staff, the shop's
    currency, and the most one cart line holds."""
    return {
        "current_user": current_user(),
        "is_staff": is_staff,
        "currency": shop_currency(),
        "max_quantity": MAX_QUANTITY,
    }


bp.add_app_template_filter(money, "money")
bp.add_app_template_filter(stock_label, "stock_label")
bp.add_app_template_filter(few_left, "few_left")
bp.add_app_template_filter(readable_size, "readable_size")


@bp.route("/form", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_CONTACT_PER_IP"],
    methods=["POST"],
    error_message="Too many messages from your address.",
)
def contact():
    """The contact form; a valid post is stored, then the visitor sees a thank-you page."""
    form = ContactForm()
    if form.validate_on_submit():
        service.save_contact_message(form.name.data, form.email.data, form.message.data)
        return redirect(url_for("pages.contact_thanks"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("contact.html", form=form), status


@bp.get("/form/thanks")
def contact_thanks():
    return render_template("contact_thanks.html")


def static_file(filename: str) -> Response:
    """A file of pages/static (Flask's own `static` route), answering `If-Match` as a stored
    file's GET does: a 412 page unless it names the file's ETag or is `*`."""
    response = send_from_directory(
        cast(str, current_app.static_folder),
        filename,
        conditional=False,
        max_age=current_app.get_send_file_max_age(filename),
    )
    return answer_conditionally(
        response, accept_ranges=True, complete_length=response.content_length
    )
