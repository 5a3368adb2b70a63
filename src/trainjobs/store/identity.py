"""Queries for projects and tokens."""

from __future__ import annotations

import sqlalchemy as sa

from trainjobs.store.tables import projects, tokens


def get_project_by_name(conn: sa.Connection, name: str) -> sa.Row | None:
    return conn.execute(sa.select(projects).where(projects.c.name == name)).first()


def get_project(conn: sa.Connection, project_id: str) -> sa.Row | None:
    return conn.execute(sa.select(projects).where(projects.c.id == project_id)).first()


def insert_project(
    conn: sa.Connection, project_id: str, name: str, job_quota: int, now_ms: int
) -> None:
    conn.execute(
        projects.insert().values(id=project_id, name=name, job_quota=job_quota, create_time=now_ms)
    )


def insert_token(
    conn: sa.Connection, token_sha256: str, project_id: str, now_ms: int, expires_at: int = 0
) -> None:
    conn.execute(
        tokens.insert().values(
            token_sha256=token_sha256,
            project_id=project_id,
            create_time=now_ms,
            expires_at=expires_at,
        )
    )


def find_token(conn: sa.Connection, token_sha256: str) -> sa.Row | None:
    return conn.execute(
        sa.select(tokens.c.project_id, tokens.c.expires_at, tokens.c.revoked).where(
            tokens.c.token_sha256 == token_sha256
        )
    ).first()
