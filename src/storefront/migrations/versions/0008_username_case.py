"""accounts: usernames unique regardless of case (a unique index on lower(username))

Revision ID: 0008_username_case
Revises: 0007_catalog_indexes
Create Date: 2026-11-28 10:00:00.000000

Usernames are ASCII (letters, digits, `_.-`), so SQLite's and PostgreSQL's `lower()` agree.
A database already holding names that differ only in case is refused with their list:
which of them to rename is the operator's choice, not the migration's.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_username_case"
down_revision = "0007_catalog_indexes"
branch_labels = None
depends_on = None


def _case_variants() -> list[str]:
    """Usernames that some other username equals when case is ignored."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT username FROM users WHERE lower(username) IN "
            "(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1) "
            "ORDER BY lower(username), username"
        )
    )
    return [row.username for row in rows]


def upgrade():
    variants = _case_variants()
    if variants:
        raise RuntimeError(
            "Usernames that differ only in case must be renamed before this upgrade: "
            + ", ".join(variants)
        )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade():
    op.drop_index("uq_users_username_lower", table_name="users")
