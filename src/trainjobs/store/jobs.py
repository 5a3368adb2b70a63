"""Queries for jobs and versions.

Every listing is one indexed query whose cost follows the page asked for:
counts come from counters kept on the job row, pages from index walks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from trainjobs.statuses import Status, sources_of
from trainjobs.store.tables import jobs, versions

# One line per status change of a version: the store is where every one is made.
log = logging.getLogger("trainjobs.versions")

VERSION_COLUMNS = list(versions.c)
# What a listing needs: the immutable snapshot and the fields that change.
SUMMARY_COLUMNS = [
    versions.c.id,
    versions.c.status,
    versions.c.start_time,
    versions.c.duration,
    versions.c.model_metric_list,
    versions.c.system_metric_list,
    versions.c.snapshot,
]

JOB_SORT_COLUMNS: Mapping[str, sa.ColumnElement[Any]] = {
    "job_name": jobs.c.job_name,
    "job_desc": jobs.c.job_desc,
    "status": jobs.c.status,
    "duration": jobs.c.duration,
    "version_count": jobs.c.version_count,
    "create_time": jobs.c.create_time,
}


class IllegalTransition(Exception):
    """The version was not in a status from which the change is allowed."""


# -- jobs ---------------------------------------------------------------------


def insert_job(conn: sa.Connection, **values: Any) -> int:
    result = conn.execute(jobs.insert().values(**values).returning(jobs.c.id))
    return int(result.scalar_one())


def get_job(conn: sa.Connection, project_id: str, job_id: int) -> sa.Row | None:
    return conn.execute(
        sa.select(jobs).where(jobs.c.id == job_id, jobs.c.project_id == project_id)
    ).first()


def job_name_taken(conn: sa.Connection, project_id: str, job_name: str) -> bool:
    row = conn.execute(
        sa.select(jobs.c.id).where(jobs.c.project_id == project_id, jobs.c.job_name == job_name)
    ).first()
    return row is not None


def count_project_jobs(conn: sa.Connection, project_id: str) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(jobs).where(jobs.c.project_id == project_id)
        ).scalar_one()
    )


def _job_filters(
    project_id: str, workspace_id: str, statuses: Sequence[int], search: str
) -> list[sa.ColumnElement[bool]]:
    where = [jobs.c.project_id == project_id, jobs.c.workspace_id == workspace_id]
    if statuses:
        where.append(jobs.c.status.in_(statuses))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(sa.func.lower(jobs.c.job_name).like(f"%{escaped.lower()}%", escape="\\"))
    return where


def list_jobs(
    conn: sa.Connection,
    *,
    project_id: str,
    workspace_id: str,
    statuses: Sequence[int],
    search: str,
    sort_by: str,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[sa.Row]]:
    where = _job_filters(project_id, workspace_id, statuses, search)
    total = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(*where)).scalar_one()
    key = JOB_SORT_COLUMNS[sort_by]
    order = [key.desc() if descending else key.asc()]
    if sort_by != "job_name":  # names are unique: a stable tie-break
        order.append(jobs.c.job_name.asc())
    rows = conn.execute(
        sa.select(jobs).where(*where).order_by(*order).limit(limit).offset(offset)
    ).all()
    return int(total), list(rows)


def update_job_desc(conn: sa.Connection, job_id: int, job_desc: str) -> None:
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(job_desc=job_desc))


def delete_job(conn: sa.Connection, job_id: int) -> None:
    conn.execute(versions.delete().where(versions.c.job_id == job_id))
    conn.execute(jobs.delete().where(jobs.c.id == job_id))


# -- versions -----------------------------------------------------------------


def claim_version_number(conn: sa.Connection, job_id: int) -> int:
    """Take the job's next version number inside the caller's write transaction.

    The increment and the read are one statement that locks the job row, so
    concurrent creates get distinct, consecutive numbers.
    """
    result = conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(
            version_counter=jobs.c.version_counter + 1,
            version_count=jobs.c.version_count + 1,
        )
        .returning(jobs.c.version_counter)
    )
    return int(result.scalar_one())


def insert_version(conn: sa.Connection, **values: Any) -> int:
    version_id = int(
        conn.execute(versions.insert().values(**values).returning(versions.c.id)).scalar_one()
    )
    log.info(
        "version %s of job %s: %s", version_id, values["job_id"], Status(values["status"]).name
    )
    conn.execute(
        jobs.update()
        .where(jobs.c.id == values["job_id"])
        .values(
            latest_version_id=version_id,
            status=values["status"],
            start_time=values.get("start_time", 0),
            duration=values.get("duration", 0),
        )
    )
    return version_id


def get_version(conn: sa.Connection, job_id: int, version_id: int) -> sa.Row | None:
    return conn.execute(
        sa.select(*VERSION_COLUMNS).where(versions.c.id == version_id, versions.c.job_id == job_id)
    ).first()


def get_version_by_id(conn: sa.Connection, version_id: int) -> sa.Row | None:
    return conn.execute(sa.select(versions).where(versions.c.id == version_id)).first()


def latest_version(conn: sa.Connection, job_id: int) -> sa.Row | None:
    return conn.execute(
        sa.select(*VERSION_COLUMNS)
        .where(versions.c.job_id == job_id)
        .order_by(versions.c.id.desc())
        .limit(1)
    ).first()


def list_versions(conn: sa.Connection, job: sa.Row, limit: int | None, offset: int) -> list[sa.Row]:
    """Summaries of a job's versions, newest first, reading only the page's rows."""
    if limit is not None and job.version_count == job.version_counter:
        # Nothing was ever deleted, so numbers have no gaps and a page is a
        # range of them: an index seek, however deep the page.
        top = job.version_counter - offset
        query = (
            sa.select(*SUMMARY_COLUMNS)
            .where(
                versions.c.job_id == job.id,
                versions.c.number <= top,
                versions.c.number > top - limit,
            )
            .order_by(versions.c.number.desc())
        )
        return list(conn.execute(query).all())
    # Otherwise the page's ids come from a walk of the (job_id, id) index.
    ids = (
        sa.select(versions.c.id)
        .where(versions.c.job_id == job.id)
        .order_by(versions.c.id.desc())
        .limit(limit)
        .offset(offset)
        .scalar_subquery()
    )
    query = sa.select(*SUMMARY_COLUMNS).where(versions.c.id.in_(ids)).order_by(versions.c.id.desc())
    return list(conn.execute(query).all())


def version_ids_of_job(conn: sa.Connection, job_id: int, statuses: Iterable[Status]) -> list[int]:
    rows = conn.execute(
        sa.select(versions.c.id).where(
            versions.c.job_id == job_id, versions.c.status.in_([int(s) for s in statuses])
        )
    )
    return [int(r.id) for r in rows]


def delete_version(conn: sa.Connection, job_id: int, version_id: int) -> None:
    conn.execute(versions.delete().where(versions.c.id == version_id))
    latest = conn.execute(
        sa.select(versions.c.id, versions.c.status, versions.c.start_time, versions.c.duration)
        .where(versions.c.job_id == job_id)
        .order_by(versions.c.id.desc())
        .limit(1)
    ).first()
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(
            version_count=jobs.c.version_count - 1,
            latest_version_id=latest.id if latest else 0,
            status=latest.status if latest else 0,
            start_time=latest.start_time if latest else 0,
            duration=latest.duration if latest else 0,
        )
    )


def transition(conn: sa.Connection, version_id: int, new: Status, **fields: Any) -> sa.Row:
    """Move a version to ``new`` if the status machine allows it from where it is.

    A compare-and-set on the status column: the statement matches only when
    the current status is a legal source, so concurrent writers cannot both win.
    Raises IllegalTransition otherwise (including when the version is gone).
    """
    sources = [int(s) for s in sources_of(new)]
    row = conn.execute(
        versions.update()
        .where(versions.c.id == version_id, versions.c.status.in_(sources))
        .values(status=int(new), **fields)
        .returning(versions.c.job_id, versions.c.status, versions.c.start_time, versions.c.duration)
    ).first()
    if row is None:
        raise IllegalTransition(f"version {version_id} cannot move to {new.name}")
    reason = fields.get("failure_reason")
    log.info(
        "version %s of job %s: %s%s",
        version_id,
        row.job_id,
        new.name,
        f" ({reason})" if reason else "",
    )
    _sync_job(conn, row.job_id, version_id, row.status, row.start_time, row.duration)
    return row


def _sync_job(
    conn: sa.Connection, job_id: int, version_id: int, status: int, start_time: int, duration: int
) -> None:
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.latest_version_id == version_id)
        .values(status=status, start_time=start_time, duration=duration)
    )


def job_name_of(conn: sa.Connection, job_id: int) -> str | None:
    return conn.execute(sa.select(jobs.c.job_name).where(jobs.c.id == job_id)).scalar_one_or_none()


def update_live_metrics(conn: sa.Connection, version_id: int, **fields: Any) -> None:
    """Metrics of a run still going; a version that has ended keeps its final figures."""
    live = [int(Status.RUNNING), int(Status.KILLING)]
    conn.execute(
        versions.update()
        .where(versions.c.id == version_id, versions.c.status.in_(live))
        .values(**fields)
    )


def get_job_by_id(conn: sa.Connection, job_id: int) -> sa.Row | None:
    return conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
