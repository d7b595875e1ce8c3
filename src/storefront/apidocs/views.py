"""`/api/docs`: Swagger UI on the shop's own origin.

APIFlask's built-in page loads Swagger UI from a public CDN and starts it with an inline
script: it needed the internet and an exemption from the shop's Content-Security-Policy.
Here Swagger UI's files come from the flask-swagger-ui package and a script file of ours
starts it, so the page works offline under the same policy as every other page.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, send_from_directory

bp = Blueprint("apidocs", __name__, url_prefix="/api/docs", template_folder="templates")

SWAGGER_UI_DIST = str(files("flask_swagger_ui") / "dist")
OWN_STATIC = str(Path(__file__).parent / "static")

#: Each file the page loads, and the folder it comes from: Swagger UI's build as
#: flask-swagger-ui ships it, and our script that starts it. No other file is served.
ASSETS = {
    "swagger-ui.css": SWAGGER_UI_DIST,
    "swagger-ui-bundle.js": SWAGGER_UI_DIST,
    "swagger-init.js": OWN_STATIC,
}


@bp.get("")
def docs() -> str:
    """The page; its script reads the document's URL from it, so a URL prefix is kept."""
    return render_template("apidocs/docs.html")


@bp.get("/<name>")
def asset(name: str) -> Response:
    """One of the page's files, cached as the shop's other static files are."""
    folder = ASSETS.get(name)
    if folder is None:
        abort(404)
    return send_from_directory(folder, name)
