"""Training-job configurations and visualization jobs.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "training_job_configs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("config_name", sa.String(length=64), nullable=False),
        sa.Column("config_desc", sa.String(length=256), server_default="", nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "config_name", name="uq_configs_project_name"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_configs_project_create",
        "training_job_configs",
        ["project_id", "create_time"],
        unique=False,
    )
    op.create_table(
        "visualization_jobs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("job_name", sa.String(length=20), nullable=False),
        sa.Column("job_desc", sa.String(length=256), server_default="", nullable=False),
        sa.Column("job_type", sa.String(length=16), nullable=False),
        sa.Column("train_url", sa.String(length=1024), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("duration", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("schedule_hours", sa.Integer(), server_default="0", nullable=False),
        sa.Column("stop_at", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("owner", sa.String(length=32), server_default="", nullable=False),
        sa.Column("port", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_reason", sa.String(length=1024), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "job_name", name="uq_viz_project_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_viz_status", "visualization_jobs", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_viz_status", table_name="visualization_jobs")
    op.drop_table("visualization_jobs")
    op.drop_index("ix_configs_project_create", table_name="training_job_configs")
    op.drop_table("training_job_configs")
