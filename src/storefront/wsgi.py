"""WSGI entry point for gunicorn: `gunicorn storefront.wsgi:app`."""

from . import create_app, warn_about_local_defaults

app = create_app()
warn_about_local_defaults(app)
