"""Operational endpoints: liveness and readiness probes."""

from __future__ import annotations

import logging

from apiflask import APIBlueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .sessions import session_store_ready

bp = APIBlueprint("ops", __name__, tag="Operations")
log = logging.getLogger("storefront.ops")


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers, and Redis too when sessions live there; 503 when one does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("readiness check failed: database unreachable")
        return {"status": "unavailable", "error": "database unreachable"}, 503
    if not session_store_ready():
        log.warning("readiness check failed: Redis unreachable")
        return {"status": "unavailable", "error": "redis unreachable"}, 503
    return {"status": "ok"}
