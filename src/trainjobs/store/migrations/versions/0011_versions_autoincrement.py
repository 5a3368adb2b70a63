"""Version ids are never reused on SQLite: the versions table keeps AUTOINCREMENT.

Earlier migrations rebuilt the table through batch operations, which on SQLite
copy it into a new table without AUTOINCREMENT; SQLite then hands a deleted
newest version's id to the next one. Ids are promised unique for ever (D10),
and the listing reuses the rendering of an ended version by its id.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's sequences never hand an id out twice
    with op.batch_alter_table(
        "versions", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    pass  # AUTOINCREMENT only keeps ids from coming back; nothing to undo
