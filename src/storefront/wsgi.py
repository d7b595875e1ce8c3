"""WSGI entry point for gunicorn: `gunicorn storefront.wsgi:app`."""

from . import create_app, warn_before_serving

app = create_app()
warn_before_serving(app)
