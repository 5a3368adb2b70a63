"""Drop versions.pid and pid_create_time: run folders now hold each worker's pid.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("pid_create_time")
        batch.drop_column("pid")


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("pid", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("pid_create_time", sa.Float(), server_default="0", nullable=False)
        )
