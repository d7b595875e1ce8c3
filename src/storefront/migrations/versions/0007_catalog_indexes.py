"""catalog: listing indexes, one per catalogue order, led by `active` (pages read in order)

Revision ID: 0007_catalog_indexes
Revises: 0006_orders
Create Date: 2026-11-27 16:41:48.934886

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_catalog_indexes"
down_revision = "0006_orders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_active"))
        batch_op.drop_index(batch_op.f("ix_products_created_at"))
        batch_op.drop_index(batch_op.f("ix_products_name"))
        batch_op.create_index("ix_products_listing_name", ["active", "name", "id"], unique=False)
        batch_op.create_index(
            "ix_products_listing_newest", ["active", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_products_listing_price", ["active", "price_cents", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_listing_price")
        batch_op.drop_index("ix_products_listing_newest")
        batch_op.drop_index("ix_products_listing_name")
        batch_op.create_index(batch_op.f("ix_products_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_active"), ["active"], unique=False)
