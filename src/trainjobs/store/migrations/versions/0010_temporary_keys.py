"""Temporary access keys for the object endpoint.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "temporary_keys",
        sa.Column("ak", sa.String(length=32), nullable=False),
        sa.Column("sk", sa.String(length=512), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("version_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ak"),
    )
    op.create_index("ix_temporary_keys_version_id", "temporary_keys", ["version_id"], unique=False)
    op.create_index("ix_temporary_keys_expires_at", "temporary_keys", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_temporary_keys_expires_at", table_name="temporary_keys")
    op.drop_index("ix_temporary_keys_version_id", table_name="temporary_keys")
    op.drop_table("temporary_keys")
