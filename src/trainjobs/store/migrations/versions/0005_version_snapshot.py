"""Versions keep a JSON snapshot of their immutable fields, for fast listings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The snapshot as this revision defines it; later code may change how new
# versions render theirs, but rows written here keep this shape.
_FIELDS = (
    "version_name", "pre_version_id", "engine_type", "engine_name", "engine_id",
    "engine_version", "app_url", "boot_file_url", "create_time", "parameter", "spec_id",
    "core", "cpu", "gpu", "gpu_num", "gpu_type", "worker_server_num", "data_url",
    "train_url", "log_url", "dataset_version_id", "dataset_id", "data_source",
    "user_image_url", "user_command", "model_id", "resource_id", "dataset_name",
    "dataset_version_name", "volumes", "pool_id", "pool_name", "nas_mount_path",
    "nas_share_addr", "nas_type",
)  # fmt: skip
_BATCH = 5000


def _render(row: sa.Row) -> str:
    values = dict(row._mapping)
    derived = {
        "version_name": f"V{values['number']:04d}",
        "gpu": values["gpu_num"] > 0,
        "resource_id": values["resource_id"],
        "parameter": json.loads(values["parameter"]),
        "data_source": json.loads(values["data_source"]),
        "volumes": json.loads(values["volumes"]),
    }
    fields = {k: derived[k] if k in derived else values[k] for k in _FIELDS}
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def upgrade() -> None:
    op.add_column("versions", sa.Column("snapshot", sa.Text(), server_default="", nullable=False))
    bind = op.get_bind()
    meta = sa.MetaData()
    versions = sa.Table("versions", meta, autoload_with=bind)
    jobs = sa.Table("jobs", meta, autoload_with=bind)
    last = 0
    while True:
        rows = bind.execute(
            sa.select(versions, jobs.c.resource_id)
            .join(jobs, jobs.c.id == versions.c.job_id)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            bind.execute(
                versions.update().where(versions.c.id == row.id).values(snapshot=_render(row))
            )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("snapshot")
