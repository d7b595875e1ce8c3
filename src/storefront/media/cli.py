"""`storefront media check [--fix]`: compare the `files` rows with the stored bytes."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..cli import needs_database
from ..extensions import db
from .models import StoredFile
from .service import delete_file, delete_unreferenced, referenced_keys, unused_public_files
from .storage import Storage, get_storage

media_cli = AppGroup("media", help="Uploaded files and images.")


@media_cli.command("check")
@click.option("--fix", is_flag=True, help="Delete orphaned bytes (bytes no row points at).")
@needs_database
def check_command(fix: bool) -> None:
    """Report rows whose bytes are missing, bytes no row points at, and product pictures
    whose product is gone.

    Exits with 1 while a problem remains: missing bytes always (only a re-upload can
    bring them back), orphans and unused pictures unless `--fix` removed them.
    """
    storage = get_storage()
    unused = unused_public_files()
    for record in unused:
        if fix:
            delete_file(record)
            click.echo(f"removed unused product picture: file {record.id}")
        else:
            click.echo(f"unused product picture: file {record.id}")
    missing = _missing(storage)
    orphans = sorted(set(storage.keys()) - referenced_keys())
    for file_id, kind, key in missing:
        click.echo(f"missing: the {kind} of file {file_id} ({key})")
    if fix:
        orphans = sorted(delete_unreferenced(set(orphans)))
    for key in orphans:
        click.echo(f"removed orphan: {key}" if fix else f"orphan: {key}")
    removed = " (removed)" if fix else ""
    click.echo(
        f"{len(missing)} missing, {len(orphans)} orphaned{removed}, "
        f"{len(unused)} unused product pictures{removed}."
    )
    if missing or ((orphans or unused) and not fix):
        sys.exit(1)


def _missing(storage: Storage) -> list[tuple[int, str, str]]:
    """(file id, "bytes" or "thumbnail", key) of every row whose bytes are not stored."""
    rows = db.session.execute(
        select(StoredFile.id, StoredFile.storage_key, StoredFile.thumbnail_key).order_by(
            StoredFile.id
        )
    )
    missing = []
    for file_id, key, thumb_key in rows:
        if not storage.exists(key):
            missing.append((file_id, "bytes", key))
        if thumb_key and not storage.exists(thumb_key):
            missing.append((file_id, "thumbnail", thumb_key))
    return missing
