"""Access-key secrets sealed with the server's key file (room for the sealed form).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from trainjobs.store.secretbox import SecretBox, is_sealed

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _box() -> SecretBox | None:
    config = op.get_context().config
    path = config.attributes.get("secret_key_file") if config is not None else None
    return SecretBox.at(Path(path)) if path else None


def upgrade() -> None:
    with op.batch_alter_table("access_keys") as batch:
        batch.alter_column("sk", type_=sa.String(512), existing_nullable=False)
    box = _box()
    if box is None:  # the alembic command line, without the key: secrets stay as they were
        return
    conn = op.get_bind()
    keys = sa.table("access_keys", sa.column("ak", sa.String), sa.column("sk", sa.String))
    for row in conn.execute(sa.select(keys.c.ak, keys.c.sk)).all():
        if not is_sealed(row.sk):
            conn.execute(keys.update().where(keys.c.ak == row.ak).values(sk=box.seal(row.sk)))


def downgrade() -> None:
    box = _box()
    conn = op.get_bind()
    keys = sa.table("access_keys", sa.column("ak", sa.String), sa.column("sk", sa.String))
    if box is not None:
        for row in conn.execute(sa.select(keys.c.ak, keys.c.sk)).all():
            conn.execute(keys.update().where(keys.c.ak == row.ak).values(sk=box.unseal(row.sk)))
    with op.batch_alter_table("access_keys") as batch:
        batch.alter_column("sk", type_=sa.String(64), existing_nullable=False)
