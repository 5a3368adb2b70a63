"""Queries for server membership and version ownership."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from trainjobs.store.tables import servers, versions


def register(
    conn: sa.Connection,
    server_id: str,
    host: str,
    pid: int,
    pid_create_time: float,
    now_ms: int,
) -> None:
    conn.execute(
        servers.insert().values(
            id=server_id,
            host=host,
            pid=pid,
            pid_create_time=pid_create_time,
            started_at=now_ms,
            heartbeat_at=now_ms,
        )
    )


def heartbeat(conn: sa.Connection, server_id: str, now_ms: int) -> None:
    conn.execute(servers.update().where(servers.c.id == server_id).values(heartbeat_at=now_ms))


def unregister(conn: sa.Connection, server_id: str) -> None:
    conn.execute(servers.delete().where(servers.c.id == server_id))


def all_servers(conn: sa.Connection) -> list[sa.Row]:
    return list(conn.execute(sa.select(servers)).all())


def owners_of_active(conn: sa.Connection, statuses: Iterable[int]) -> set[str]:
    rows = conn.execute(
        sa.select(versions.c.owner).where(versions.c.status.in_(list(statuses))).distinct()
    )
    return {r.owner for r in rows}


def claim(
    conn: sa.Connection, old_owners: Iterable[str], new_owner: str, statuses: Iterable[int]
) -> list[int]:
    """Take over the active versions of dead servers; each is claimed by one server only."""
    rows = conn.execute(
        versions.update()
        .where(versions.c.owner.in_(list(old_owners)), versions.c.status.in_(list(statuses)))
        .values(owner=new_owner)
        .returning(versions.c.id)
    )
    return sorted(int(r.id) for r in rows)


def forget(conn: sa.Connection, server_ids: Iterable[str]) -> None:
    conn.execute(servers.delete().where(servers.c.id.in_(list(server_ids))))


def watch(conn: sa.Connection, owner: str, ids: Iterable[int]) -> dict[int, int]:
    """The current status of these versions of ``owner`` (missing: deleted)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(versions.c.id, versions.c.status).where(
            versions.c.id.in_(wanted), versions.c.owner == owner
        )
    )
    return {int(r.id): int(r.status) for r in rows}
