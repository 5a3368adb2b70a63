"""initial schema: projects, tokens, jobs, versions

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("job_quota", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("job_name", sa.String(length=64), nullable=False),
        sa.Column("job_desc", sa.String(length=256), server_default="", nullable=False),
        sa.Column("resource_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("version_counter", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("latest_version_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.Integer(), server_default="0", nullable=False),
        sa.Column("start_time", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("duration", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "job_name", name="uq_jobs_project_name"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_jobs_ws_create", "jobs", ["project_id", "workspace_id", "create_time"], unique=False
    )
    op.create_index(
        "ix_jobs_ws_name", "jobs", ["project_id", "workspace_id", "job_name"], unique=False
    )
    op.create_index(
        "ix_jobs_ws_status", "jobs", ["project_id", "workspace_id", "status"], unique=False
    )
    op.create_table(
        "tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_table(
        "versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("pre_version_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("duration", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("engine_id", sa.BigInteger(), nullable=False),
        sa.Column("engine_type", sa.Integer(), nullable=False),
        sa.Column("engine_name", sa.String(length=64), nullable=False),
        sa.Column("engine_version", sa.String(length=64), nullable=False),
        sa.Column("spec_id", sa.BigInteger(), nullable=False),
        sa.Column("spec_code", sa.String(length=64), nullable=False),
        sa.Column("core", sa.String(length=16), nullable=False),
        sa.Column("cpu", sa.String(length=16), nullable=False),
        sa.Column("gpu_num", sa.Integer(), nullable=False),
        sa.Column("gpu_type", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("pool_name", sa.String(length=64), nullable=False),
        sa.Column("worker_server_num", sa.Integer(), nullable=False),
        sa.Column("app_url", sa.String(length=1024), nullable=False),
        sa.Column("boot_file_url", sa.String(length=1024), nullable=False),
        sa.Column("data_url", sa.String(length=1024), nullable=False),
        sa.Column("train_url", sa.String(length=1024), nullable=False),
        sa.Column("log_url", sa.String(length=1024), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_name", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_name", sa.String(length=64), nullable=False),
        sa.Column("data_source", sa.Text(), nullable=False),
        sa.Column("parameter", sa.Text(), nullable=False),
        sa.Column("volumes", sa.Text(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("user_image_url", sa.String(length=1024), nullable=False),
        sa.Column("user_command", sa.String(length=4096), nullable=False),
        sa.Column("nas_mount_path", sa.String(length=1024), nullable=False),
        sa.Column("nas_share_addr", sa.String(length=1024), nullable=False),
        sa.Column("nas_type", sa.String(length=16), nullable=False),
        sa.Column("model_metric_list", sa.Text(), nullable=False),
        sa.Column("system_metric_list", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pid_create_time", sa.Float(), server_default="0", nullable=False),
        sa.Column("failure_reason", sa.String(length=1024), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "number", name="uq_versions_job_number"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_versions_job_id", "versions", ["job_id", "id"], unique=False)
    op.create_index("ix_versions_status", "versions", ["status"], unique=False)


def downgrade() -> None:

    op.drop_index("ix_versions_status", table_name="versions")
    op.drop_index("ix_versions_job_id", table_name="versions")
    op.drop_table("versions")
    op.drop_table("tokens")
    op.drop_index("ix_jobs_ws_status", table_name="jobs")
    op.drop_index("ix_jobs_ws_name", table_name="jobs")
    op.drop_index("ix_jobs_ws_create", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("projects")
