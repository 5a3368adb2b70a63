"""IAM: users, project membership, access keys; tokens know their user and methods.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain", "name", name="uq_users_domain_name"),
    )
    op.create_table(
        "user_projects",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "project_id"),
    )
    op.create_table(
        "access_keys",
        sa.Column("ak", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("sk", sa.String(length=64), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ak"),
    )
    op.create_index("ix_access_keys_user_id", "access_keys", ["user_id"], unique=False)
    # SQLite cannot add a foreign key to an existing table: batch mode copies it.
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("user_id", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("methods", sa.String(length=64), server_default="", nullable=False)
        )
        batch.create_foreign_key(
            "fk_tokens_user_id", "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_tokens_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_index("ix_tokens_expires_at")
        batch.drop_constraint("fk_tokens_user_id", type_="foreignkey")
        batch.drop_column("methods")
        batch.drop_column("user_id")
    op.drop_index("ix_access_keys_user_id", table_name="access_keys")
    op.drop_table("access_keys")
    op.drop_table("user_projects")
    op.drop_table("users")
