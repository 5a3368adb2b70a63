"""Visualization jobs (V1-V7, D26): a real TensorBoard over a train_url.

Each running job has a supervisor thread (``domain/tensorboards.py``); a stopped
job holds nothing but its row.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.statuses import Status
from trainjobs.domain.tensorboards import ACTIVE, TensorBoards
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.store import visualization as q
from trainjobs.store.database import Database
from trainjobs.store.identity import get_project

ENDED = (int(Status.KILLED), int(Status.FAILED))


class VisualizationService:
    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        root: Path,
        *,
        server_id: str,
        owner_is_alive: Callable[[str], bool],
        hour_s: float,
        sync_period_s: float,
        quota: int,
    ) -> None:
        self.db = db
        self.root = root
        self.server_id = server_id
        self.owner_is_alive = owner_is_alive
        self.quota = quota
        self._boards = TensorBoards(
            db, store, root, server_id=server_id, hour_s=hour_s, sync_period_s=sync_period_s
        )

    # -- the API's operations ---------------------------------------------------

    def create(
        self,
        project_id: str,
        *,
        job_name: str,
        job_desc: str,
        train_url: str,
        job_type: str,
        schedule_hours: int,
    ) -> sa.Row:
        try:
            parse_obs_path(train_url)
        except InvalidObsPath as exc:
            raise errors.InvalidStorePath(f"train_url: {exc}") from exc
        try:
            with self.db.write() as conn:
                if get_project(conn, project_id) is None:
                    raise errors.NotFound(f"project {project_id} does not exist")
                if q.count(conn, project_id) >= self.quota:
                    raise errors.QuotaExceeded(
                        f"the project has reached its quota of {self.quota} visualization jobs; "
                        "delete one first"
                    )
                if q.name_taken(conn, project_id, job_name):
                    raise errors.DuplicateJobName(f"visualization job {job_name} already exists")
                job_id = q.insert(
                    conn,
                    project_id=project_id,
                    job_name=job_name,
                    job_desc=job_desc,
                    job_type=job_type,
                    train_url=train_url,
                    resource_id=f"viz{secrets.token_hex(4)}",
                    status=int(Status.INIT),
                    create_time=now_ms(),
                    schedule_hours=schedule_hours,
                    owner=self.server_id,
                )
                row = q.get_by_id(conn, job_id)
        except IntegrityError as exc:  # a concurrent create took the name first
            raise errors.DuplicateJobName(f"visualization job {job_name} already exists") from exc
        assert row is not None
        self._boards.launch(job_id, resume=False)
        return row

    def get(self, project_id: str, job_id: int) -> sa.Row:
        with self.db.read() as conn:
            row = q.get(conn, project_id, job_id)
        if row is None:
            raise errors.NotFound(f"visualization job {job_id} does not exist")
        return row

    def list(
        self,
        project_id: str,
        *,
        statuses: Sequence[int],
        search: str,
        sort_by: str,
        descending: bool,
        page: int,
        per_page: int,
    ) -> tuple[int, int, list[sa.Row]]:
        """(matching jobs, jobs the project can still create, the page)."""
        with self.db.read() as conn:
            total, rows = q.page(
                conn,
                project_id,
                statuses=statuses,
                search=search,
                sort_by=sort_by,
                descending=descending,
                limit=per_page,
                offset=(page - 1) * per_page,
            )
            left = max(0, self.quota - q.count(conn, project_id))
        return total, left, rows

    def update(self, project_id: str, job_id: int, job_desc: str) -> None:
        with self.db.write() as conn:
            if q.get(conn, project_id, job_id) is None:
                raise errors.NotFound(f"visualization job {job_id} does not exist")
            q.update(conn, job_id, job_desc=job_desc)

    def stop(self, project_id: str, job_id: int, reason: str = "stopped on request") -> None:
        row = self.get(project_id, job_id)
        if row.status not in ACTIVE:
            raise errors.StatusConflict(
                f"This job can't be stop. job status: {row.status} (only a running or "
                "starting visualization job stops)"
            )
        if not self._boards.end(row, Status.KILLED, reason):
            raise errors.StatusConflict(f"visualization job {job_id} changed status; try again")

    def restart(self, project_id: str, job_id: int) -> None:
        row = self.get(project_id, job_id)
        with self.db.write() as conn:
            moved = q.move(
                conn,
                job_id,
                ENDED,
                status=int(Status.INIT),
                owner=self.server_id,
                stop_at=0,
                failure_reason="",
            )
        if not moved:
            raise errors.StatusConflict(
                f"This job can't be resubmit. job status: {row.status} (stop it first)"
            )
        self._boards.launch(job_id, resume=False)

    def delete(self, project_id: str, job_id: int) -> None:
        with self.db.write() as conn:
            if q.get(conn, project_id, job_id) is None:
                raise errors.NotFound(f"visualization job {job_id} does not exist")
            q.delete(conn, job_id)
        job = self._boards.wake(job_id)
        if job is None:
            shutil.rmtree(self.root / str(job_id), ignore_errors=True)

    # -- the server's life ----------------------------------------------------

    def recover(self) -> int:
        """Run again what no live server runs: after a restart the schedule holds."""
        with self.db.read() as conn:
            rows = q.active(conn, ACTIVE)
        count = 0
        for row in rows:
            if row.owner == self.server_id or (row.owner and self.owner_is_alive(row.owner)):
                continue
            with self.db.write() as conn:
                claimed = q.claim(conn, row.id, row.owner, row.status, self.server_id)
            if not claimed:
                continue
            self._boards.end_orphan(row.id)
            if row.status == Status.RUNNING and row.stop_at and now_ms() >= row.stop_at:
                with self.db.write() as conn:
                    q.move(
                        conn,
                        row.id,
                        ACTIVE,
                        status=int(Status.KILLED),
                        duration=int(row.duration) + max(0, row.stop_at - row.start_time),
                        failure_reason=(
                            f"stopped by its schedule after {row.schedule_hours} hour(s)"
                        ),
                    )
                continue
            self._boards.launch(row.id, resume=row.status == Status.RUNNING)
            count += 1
        return count

    def shutdown(self, timeout_s: float) -> None:
        """End every TensorBoard; running jobs stay RUNNING for the next server."""
        self._boards.shutdown(timeout_s)
