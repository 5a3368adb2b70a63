"""Queries of temporary access keys, and of the keys the object endpoint accepts."""

from __future__ import annotations

import sqlalchemy as sa

from trainjobs.store.tables import access_keys, temporary_keys, tokens, user_projects


def insert(
    conn: sa.Connection,
    ak: str,
    sk: str,
    project_id: str,
    now_ms: int,
    expires_at: int,
    token_sha256: str | None = None,
    version_id: int | None = None,
) -> None:
    conn.execute(
        temporary_keys.insert().values(
            ak=ak,
            sk=sk,
            project_id=project_id,
            create_time=now_ms,
            expires_at=expires_at,
            token_sha256=token_sha256,
            version_id=version_id,
        )
    )


def delete_for_version(conn: sa.Connection, version_id: int) -> None:
    conn.execute(temporary_keys.delete().where(temporary_keys.c.version_id == version_id))


def prune(conn: sa.Connection, now_ms: int) -> None:
    conn.execute(
        temporary_keys.delete().where(
            temporary_keys.c.expires_at > 0, temporary_keys.c.expires_at < now_ms
        )
    )


def find_temporary(conn: sa.Connection, ak: str) -> sa.Row | None:
    """The key with whether its token (if any) was revoked."""
    return conn.execute(
        sa.select(
            temporary_keys.c.sk,
            temporary_keys.c.project_id,
            temporary_keys.c.expires_at,
            tokens.c.revoked.label("token_revoked"),
        )
        .outerjoin(tokens, tokens.c.token_sha256 == temporary_keys.c.token_sha256)
        .where(temporary_keys.c.ak == ak)
    ).first()


def find_permanent(conn: sa.Connection, ak: str) -> sa.Row | None:
    """A user's access key with the first project the user joined."""
    return conn.execute(
        sa.select(access_keys.c.sk, user_projects.c.project_id)
        .join(user_projects, user_projects.c.user_id == access_keys.c.user_id)
        .where(access_keys.c.ak == ak)
        .order_by(user_projects.c.project_id)
        .limit(1)
    ).first()
