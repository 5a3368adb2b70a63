"""Queries for training-job configurations (C1-C5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from trainjobs.store.tables import training_job_configs as configs

SORT_COLUMNS: Mapping[str, sa.ColumnElement[Any]] = {
    "config_name": configs.c.config_name,
    "config_desc": configs.c.config_desc,
    "create_time": configs.c.create_time,
}


def like_pattern(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def insert(conn: sa.Connection, **values: Any) -> None:
    conn.execute(configs.insert().values(**values))


def get(conn: sa.Connection, project_id: str, name: str) -> sa.Row | None:
    return conn.execute(
        sa.select(configs).where(configs.c.project_id == project_id, configs.c.config_name == name)
    ).first()


def name_taken(conn: sa.Connection, project_id: str, name: str) -> bool:
    return get(conn, project_id, name) is not None


def update(conn: sa.Connection, row_id: int, **values: Any) -> None:
    conn.execute(configs.update().where(configs.c.id == row_id).values(**values))


def delete(conn: sa.Connection, project_id: str, name: str) -> bool:
    result = conn.execute(
        configs.delete().where(configs.c.project_id == project_id, configs.c.config_name == name)
    )
    return bool(result.rowcount)


def page(
    conn: sa.Connection,
    project_id: str,
    *,
    search: str,
    sort_by: str,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[sa.Row]]:
    where = [configs.c.project_id == project_id]
    if search:
        where.append(sa.func.lower(configs.c.config_name).like(like_pattern(search), escape="\\"))
    total = conn.execute(sa.select(sa.func.count()).select_from(configs).where(*where)).scalar_one()
    key = SORT_COLUMNS[sort_by]
    order = [key.desc() if descending else key.asc(), configs.c.config_name.asc()]
    rows = conn.execute(
        sa.select(configs).where(*where).order_by(*order).limit(limit).offset(offset)
    ).all()
    return int(total), list(rows)
