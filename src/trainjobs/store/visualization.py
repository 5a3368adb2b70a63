"""Queries for visualization jobs (V1-V7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from trainjobs.store.tables import visualization_jobs as viz
from trainjobs.store.training_configs import like_pattern

SORT_COLUMNS: Mapping[str, sa.ColumnElement[Any]] = {
    "job_id": viz.c.id,
    "job_name": viz.c.job_name,
    "job_desc": viz.c.job_desc,
    "create_time": viz.c.create_time,
    "status": viz.c.status,
    "duration": viz.c.duration,
}


def insert(conn: sa.Connection, **values: Any) -> int:
    return int(conn.execute(viz.insert().values(**values).returning(viz.c.id)).scalar_one())


def get(conn: sa.Connection, project_id: str, job_id: int) -> sa.Row | None:
    return conn.execute(
        sa.select(viz).where(viz.c.id == job_id, viz.c.project_id == project_id)
    ).first()


def get_by_id(conn: sa.Connection, job_id: int) -> sa.Row | None:
    return conn.execute(sa.select(viz).where(viz.c.id == job_id)).first()


def name_taken(conn: sa.Connection, project_id: str, name: str) -> bool:
    found = conn.execute(
        sa.select(viz.c.id).where(viz.c.project_id == project_id, viz.c.job_name == name)
    ).first()
    return found is not None


def count(conn: sa.Connection, project_id: str) -> int:
    total = conn.execute(
        sa.select(sa.func.count()).select_from(viz).where(viz.c.project_id == project_id)
    ).scalar_one()
    return int(total)


def update(conn: sa.Connection, job_id: int, **values: Any) -> None:
    conn.execute(viz.update().where(viz.c.id == job_id).values(**values))


def move(conn: sa.Connection, job_id: int, from_statuses: Iterable[int], **values: Any) -> bool:
    """Change the row only while its status is one of ``from_statuses``."""
    result = conn.execute(
        viz.update()
        .where(viz.c.id == job_id, viz.c.status.in_(list(from_statuses)))
        .values(**values)
    )
    return bool(result.rowcount)


def claim(conn: sa.Connection, job_id: int, owner: str, status: int, new_owner: str) -> bool:
    """Take a job over from ``owner``, unless another server took it first."""
    result = conn.execute(
        viz.update()
        .where(viz.c.id == job_id, viz.c.owner == owner, viz.c.status == status)
        .values(owner=new_owner)
    )
    return bool(result.rowcount)


def delete(conn: sa.Connection, job_id: int) -> None:
    conn.execute(viz.delete().where(viz.c.id == job_id))


def active(conn: sa.Connection, statuses: Sequence[int]) -> list[sa.Row]:
    return list(conn.execute(sa.select(viz).where(viz.c.status.in_(list(statuses)))).all())


def page(
    conn: sa.Connection,
    project_id: str,
    *,
    statuses: Sequence[int],
    search: str,
    sort_by: str,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[sa.Row]]:
    where = [viz.c.project_id == project_id]
    if statuses:
        where.append(viz.c.status.in_(list(statuses)))
    if search:
        where.append(sa.func.lower(viz.c.job_name).like(like_pattern(search), escape="\\"))
    total = conn.execute(sa.select(sa.func.count()).select_from(viz).where(*where)).scalar_one()
    key = SORT_COLUMNS[sort_by]
    order = [key.desc() if descending else key.asc(), viz.c.id.asc()]
    rows = conn.execute(
        sa.select(viz).where(*where).order_by(*order).limit(limit).offset(offset)
    ).all()
    return int(total), list(rows)
