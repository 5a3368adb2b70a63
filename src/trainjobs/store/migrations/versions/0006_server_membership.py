"""Server membership: servers with heartbeats, and the owner of each version.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "servers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("pid_create_time", sa.Float(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column(
        "versions", sa.Column("owner", sa.String(length=32), server_default="", nullable=False)
    )
    op.create_index("ix_versions_owner_status", "versions", ["owner", "status"], unique=False)


def downgrade() -> None:

    op.drop_index("ix_versions_owner_status", table_name="versions")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("owner")
    op.drop_table("servers")
