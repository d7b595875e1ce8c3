"""media: product pictures (a link table, so the products table is not rebuilt)

Revision ID: 0004_product_images
Revises: 0003_media
Create Date: 2026-11-27 16:25:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_product_images"
down_revision = "0003_media"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_images",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_product_images_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_images_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_images")),
        sa.UniqueConstraint("file_id", name=op.f("uq_product_images_file_id")),
    )


def downgrade():
    op.drop_table("product_images")
