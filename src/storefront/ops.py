"""Operational endpoints: liveness and readiness probes."""

from __future__ import annotations

import logging
from typing import Literal

from alembic.config import Config
from alembic.script import ScriptDirectory
from apiflask import APIBlueprint
from flask import Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .apikit import OutputModel
from .extensions import db
from .openapi import RETRY_AFTER_HEADER
from .sessions import session_store_ready

bp = APIBlueprint("ops", __name__, tag="Operations")
log = logging.getLogger("storefront.ops")


class ProbeOut(OutputModel):
    """A probe's 200."""

    status: Literal["ok"]


class NotReadyOut(OutputModel):
    """A readiness probe's 503: what does not answer."""

    status: Literal["unavailable"]
    error: Literal["database unreachable", "database not migrated", "redis unreachable"]


NOT_READY = {
    "description": "The database, or the sessions' Redis, does not answer, or the database "
    "lacks the latest migration (run `init-db`)",
    "content": {"application/json": {"schema": NotReadyOut.model_json_schema()}},
    "headers": RETRY_AFTER_HEADER,
}


@bp.get("/healthz")
@bp.output(ProbeOut)
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.output(ProbeOut)
@bp.doc(responses={503: NOT_READY})
def readyz():
    """The database answers with the latest migration applied, and Redis too when sessions
    live there; 503 when one does not (every other request would be a 503 too)."""
    problem = database_problem()
    if problem is not None:
        log.warning("readiness check failed: %s", problem)
        return _not_ready(problem)
    if not session_store_ready():
        log.warning("readiness check failed: Redis unreachable")
        return _not_ready("redis unreachable")
    return {"status": "ok"}


def database_problem() -> Literal["database unreachable", "database not migrated"] | None:
    """What keeps the database from serving the shop, or None: it does not answer, or it
    lacks this code's latest migration (run `init-db`)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "database unreachable"
    if not _migrated():
        return "database not migrated"
    return None


def _migrated() -> bool:
    """Whether the database has this code's latest migrations applied, or newer ones this
    code does not know (applied before the code is replaced, in a rolling deploy)."""
    try:
        applied = _applied_migrations()
    except SQLAlchemyError:  # no such table: `init-db` never ran
        db.session.rollback()
        return False
    heads, known = _migrations()
    return bool(applied) and (applied == heads or not applied <= known)


def unknown_migrations() -> set[str]:
    """The migrations the database records as applied that this code does not have (a newer
    release's, or another app's); the database must have Alembic's record."""
    return _applied_migrations() - _migrations()[1]


def _applied_migrations() -> set[str]:
    return set(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def _migrations() -> tuple[set[str], set[str]]:
    """This code's newest migrations and all it knows, read from its scripts once per app."""
    migrations = current_app.extensions.get("storefront.migrations")
    if migrations is None:
        config = Config()
        config.set_main_option("script_location", current_app.extensions["migrate"].directory)
        script = ScriptDirectory.from_config(config)
        known = {revision.revision for revision in script.walk_revisions()}
        migrations = current_app.extensions["storefront.migrations"] = (
            set(script.get_heads()),
            known,
        )
    return migrations


def _not_ready(error: str) -> Response:
    """The 503 answer, built here: `@bp.output` would shape it as the 200's body. Like every
    503 of the shop it names when to ask again."""
    response = jsonify(NotReadyOut(status="unavailable", error=error).model_dump())
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response
