"""catalog: SKUs unique regardless of case (a unique index on lower(sku))

Revision ID: 0010_sku_case
Revises: 0009_search_statistics
Create Date: 2026-11-27 23:10:00.000000

`MUG-RED` and `mug-red` name one stock item; two products under them would split its
stock and its orders. SKUs are ASCII (letters, digits, `_.-`), so SQLite's and
PostgreSQL's `lower()` agree. A database already holding SKUs that differ only in case is
refused with their list: which of them to change is the operator's choice.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_sku_case"
down_revision = "0009_search_statistics"
branch_labels = None
depends_on = None


def _case_variants() -> list[str]:
    """SKUs that some other SKU equals when case is ignored."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT sku FROM products WHERE lower(sku) IN "
            "(SELECT lower(sku) FROM products GROUP BY lower(sku) HAVING count(*) > 1) "
            "ORDER BY lower(sku), sku"
        )
    )
    return [row.sku for row in rows]


def upgrade():
    variants = _case_variants()
    if variants:
        raise RuntimeError(
            "SKUs that differ only in case must be changed before this upgrade: "
            + ", ".join(variants)
        )
    op.create_index("uq_products_sku_lower", "products", [sa.text("lower(sku)")], unique=True)


def downgrade():
    op.drop_index("uq_products_sku_lower", table_name="products")
