"""sqlite: ids are never given twice (AUTOINCREMENT on the tables whose ids are addresses)

Revision ID: 0011_sqlite_ids
Revises: 0010_sku_case
Create Date: 2026-11-28 02:45:00.000000

SQLite gives a new row the largest id + 1, so deleting the newest user, product, file,
order or session handed its id to the next one: a retried `DELETE /api/users/6` deleted
the account registered since, and a picture cached for a year under `/api/files/6` stood
in for another file. With AUTOINCREMENT an id is never given again, as PostgreSQL's
sequences never give one (nothing to do there). SQLite cannot add it to a table, so each
table is rebuilt the way SQLite documents: a new table from the old one's own DDL, the
rows copied, the old table dropped, the new one renamed, its indexes made again (with
foreign keys off meanwhile: env.py).
"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_sqlite_ids"
down_revision = "0010_sku_case"
branch_labels = None
depends_on = None

TABLES = ("users", "products", "files", "orders", "user_sessions")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in TABLES:
            _rebuild_with_autoincrement(bind, table)


def downgrade():
    """Nothing to undo: an id once given stays given."""


def _rebuild_with_autoincrement(bind, table: str) -> None:
    """Rebuild `table` from its own DDL with `id ... PRIMARY KEY AUTOINCREMENT`.

    The DDL is the one these migrations wrote; anything else is refused, not guessed at. A
    table that has it already (this migration was undone, which keeps it) is left as it is.
    """
    create = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :table"),
        {"table": table},
    ).scalar_one()
    if "PRIMARY KEY AUTOINCREMENT" in create:
        return
    indexes = bind.execute(
        sa.text(
            "SELECT sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL"
        ),
        {"table": table},
    ).scalars().all()
    header = re.compile(rf'^CREATE TABLE "?{table}"? \(')
    column = "\n\tid INTEGER NOT NULL, "
    primary_key = f"\n\tCONSTRAINT pk_{table} PRIMARY KEY (id), "
    if not header.match(create) or create.count(column) != 1 or create.count(primary_key) != 1:
        raise RuntimeError(f"{table} is not as the migrations built it:\n{create}")
    new_table = f"autoincrement_{table}"
    bind.exec_driver_sql(
        header.sub(f"CREATE TABLE {new_table} (", create)
        .replace(primary_key, "")
        .replace(
            column, f"\n\tid INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT, "
        )
    )
    bind.exec_driver_sql(f'INSERT INTO {new_table} SELECT * FROM "{table}"')
    bind.exec_driver_sql(f'DROP TABLE "{table}"')
    bind.exec_driver_sql(f'ALTER TABLE {new_table} RENAME TO "{table}"')
    for index in indexes:
        bind.exec_driver_sql(index)
