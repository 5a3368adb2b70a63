"""The SQL a listing sends, and SQLite's plan for each statement: what the
store really executes (captured from its engine), not a copy of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _seed_versions import sqlite_url
from sqlalchemy import event

from trainjobs.domain import bootstrap, hashing
from trainjobs.store import identity as identity_q
from trainjobs.store import jobs as q
from trainjobs.store.database import Database


@contextmanager
def _captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def query_plans(
    data_dir: Path, project_id: str, job_id: int, deep_offset: int
) -> list[tuple[str, str, list[str]]]:
    """EXPLAIN QUERY PLAN of the statements the store really sends for a listing."""
    db = Database(sqlite_url(data_dir))
    out: list[tuple[str, str, list[str]]] = []
    try:
        token_sha = hashing.hash_token(
            json.loads((data_dir / bootstrap.CREDENTIALS_FILE).read_text())["token"]
        )
        with db.read() as conn:
            job = q.get_job(conn, project_id, job_id)
        assert job is not None
        calls: list[tuple[str, Any]] = [
            ("find_token (auth)", lambda c: identity_q.find_token(c, token_sha)),
            ("get_job", lambda c: q.get_job(c, project_id, job_id)),
            ("list_versions(10, 0)", lambda c: q.list_versions(c, job, 10, 0)),
            (
                f"list_versions(10, {deep_offset})",
                lambda c: q.list_versions(c, job, 10, deep_offset),
            ),
            ("list_versions(1000, 0)", lambda c: q.list_versions(c, job, 1000, 0)),
            (
                "list_versions(1000, 0), heads",
                lambda c: q.list_versions(c, job, 1000, 0, q.HEAD_COLUMNS),
            ),
        ]
        for label, call in calls:
            with db.read() as conn, _captured(db.engine) as seen:
                call(conn)
            for statement, params in seen:
                with db.read() as conn:
                    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                out.append((label, " ".join(statement.split()), [str(r[-1]) for r in rows]))
    finally:
        db.dispose()
    return out


def short_sql(statement: str) -> str:
    """The statement with its long select list shortened to a column count."""
    head, sep, rest = statement.partition(" FROM ")
    columns = head.removeprefix("SELECT ").split(", ")
    if not sep or len(columns) <= 3:
        return statement
    return f"SELECT <{len(columns)} columns> FROM {rest}"
