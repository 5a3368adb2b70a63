"""Code snapshots: each version's code digest and data manifest.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "versions",
        sa.Column("code_digest", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column(
        "versions", sa.Column("data_manifest", sa.Text(), server_default="[]", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("data_manifest")
        batch.drop_column("code_digest")
