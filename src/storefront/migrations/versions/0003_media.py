"""media: image sizes and thumbnails on files, public files

Revision ID: 0003_media
Revises: 0002_catalog
Create Date: 2026-11-27 16:04:22.740984

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_media"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("thumbnail_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("thumbnail_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_files_storage_key"), ["storage_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_files_thumbnail_key"), ["thumbnail_key"], unique=False)


def downgrade():
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_files_thumbnail_key"))
        batch_op.drop_index(batch_op.f("ix_files_storage_key"))
        batch_op.drop_column("public")
        batch_op.drop_column("thumbnail_size")
        batch_op.drop_column("thumbnail_sha256")
        batch_op.drop_column("thumbnail_key")
        batch_op.drop_column("height")
        batch_op.drop_column("width")
