"""accounts: when each account's password was last changed

Revision ID: 0012_password_changed_at
Revises: 0011_sqlite_ids
Create Date: 2026-11-29 10:40:00.000000

A browser that has logged in to an account keeps a mark that lets it past the account's
all-addresses login budget, valid for the password it was earned with. The password hash
cannot say which password that was: a login rehashes it when the hashing settings change.
Empty until the password is first changed (the account's creation stands for it).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_password_changed_at"
down_revision = "0011_sqlite_ids"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: a batch rebuild on SQLite would lose the table's
    # AUTOINCREMENT (0011) and its index on lower(username) (0008).
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True)))


def downgrade():
    op.drop_column("users", "password_changed_at")
