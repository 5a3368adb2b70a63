"""Queries for projects, users, access keys and tokens."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from trainjobs.store.tables import access_keys, projects, tokens, user_projects, users

# -- projects -------------------------------------------------------------------


def get_project_by_name(conn: sa.Connection, name: str) -> sa.Row | None:
    return conn.execute(sa.select(projects).where(projects.c.name == name)).first()


def get_project(conn: sa.Connection, project_id: str) -> sa.Row | None:
    return conn.execute(sa.select(projects).where(projects.c.id == project_id)).first()


def list_projects(conn: sa.Connection) -> Sequence[sa.Row]:
    return conn.execute(sa.select(projects).order_by(projects.c.name)).all()


def insert_project(
    conn: sa.Connection, project_id: str, name: str, job_quota: int, now_ms: int
) -> None:
    conn.execute(
        projects.insert().values(id=project_id, name=name, job_quota=job_quota, create_time=now_ms)
    )


# -- users ----------------------------------------------------------------------


def insert_user(
    conn: sa.Connection, user_id: str, domain: str, name: str, password_hash: str, now_ms: int
) -> None:
    conn.execute(
        users.insert().values(
            id=user_id, domain=domain, name=name, password_hash=password_hash, create_time=now_ms
        )
    )


def get_user(conn: sa.Connection, user_id: str) -> sa.Row | None:
    return conn.execute(sa.select(users).where(users.c.id == user_id)).first()


def get_user_by_name(conn: sa.Connection, domain: str, name: str) -> sa.Row | None:
    return conn.execute(
        sa.select(users).where(users.c.domain == domain, users.c.name == name)
    ).first()


def list_users(conn: sa.Connection) -> Sequence[sa.Row]:
    return conn.execute(sa.select(users).order_by(users.c.domain, users.c.name)).all()


def list_domains(conn: sa.Connection) -> list[str]:
    return [row.domain for row in conn.execute(sa.select(users.c.domain).distinct()).all()]


def delete_user(conn: sa.Connection, user_id: str) -> None:
    # Memberships, access keys and tokens go with it (ON DELETE CASCADE).
    conn.execute(users.delete().where(users.c.id == user_id))


def add_member(conn: sa.Connection, user_id: str, project_id: str) -> None:
    conn.execute(user_projects.insert().values(user_id=user_id, project_id=project_id))


def projects_of_user(conn: sa.Connection, user_id: str) -> Sequence[sa.Row]:
    return conn.execute(
        sa.select(projects)
        .join(user_projects, user_projects.c.project_id == projects.c.id)
        .where(user_projects.c.user_id == user_id)
        .order_by(projects.c.name)
    ).all()


def is_member(conn: sa.Connection, user_id: str, project_id: str) -> bool:
    found = conn.execute(
        sa.select(user_projects.c.user_id).where(
            user_projects.c.user_id == user_id, user_projects.c.project_id == project_id
        )
    ).first()
    return found is not None


# -- access keys ----------------------------------------------------------------


def insert_access_key(conn: sa.Connection, ak: str, user_id: str, sk: str, now_ms: int) -> None:
    conn.execute(access_keys.insert().values(ak=ak, user_id=user_id, sk=sk, create_time=now_ms))


def find_access_key(conn: sa.Connection, ak: str) -> sa.Row | None:
    return conn.execute(
        sa.select(access_keys.c.ak, access_keys.c.sk, access_keys.c.user_id).where(
            access_keys.c.ak == ak
        )
    ).first()


def access_keys_of_user(conn: sa.Connection, user_id: str) -> list[str]:
    """The user's access key ids (never the secrets)."""
    rows = conn.execute(
        sa.select(access_keys.c.ak)
        .where(access_keys.c.user_id == user_id)
        .order_by(access_keys.c.create_time)
    ).all()
    return [row.ak for row in rows]


# -- tokens ---------------------------------------------------------------------


def insert_token(
    conn: sa.Connection,
    token_sha256: str,
    project_id: str,
    now_ms: int,
    expires_at: int = 0,
    *,
    user_id: str | None = None,
    methods: str = "",
) -> None:
    conn.execute(
        tokens.insert().values(
            token_sha256=token_sha256,
            project_id=project_id,
            create_time=now_ms,
            expires_at=expires_at,
            user_id=user_id,
            methods=methods,
        )
    )


def find_token(conn: sa.Connection, token_sha256: str) -> sa.Row | None:
    """The token with its project's and user's names (user columns are NULL for none)."""
    return conn.execute(
        sa.select(
            tokens.c.token_sha256,
            tokens.c.project_id,
            tokens.c.create_time,
            tokens.c.expires_at,
            tokens.c.revoked,
            tokens.c.user_id,
            tokens.c.methods,
            projects.c.name.label("project_name"),
            users.c.name.label("user_name"),
            users.c.domain.label("user_domain"),
        )
        .join(projects, projects.c.id == tokens.c.project_id)
        .outerjoin(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_sha256 == token_sha256)
    ).first()


def revoke_token(conn: sa.Connection, token_sha256: str) -> None:
    conn.execute(tokens.update().where(tokens.c.token_sha256 == token_sha256).values(revoked=True))


def prune_tokens(conn: sa.Connection, expired_before_ms: int) -> None:
    """Forget tokens that expired long ago; the bootstrap token (0: never) stays."""
    conn.execute(
        tokens.delete().where(tokens.c.expires_at > 0, tokens.c.expires_at < expired_before_ms)
    )
