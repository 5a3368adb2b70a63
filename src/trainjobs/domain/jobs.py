"""Training jobs and their versions: the operations of the v1 API."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trainjobs.domain import configs, errors
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.clock import now_ms
from trainjobs.domain.datasets import DatasetService
from trainjobs.domain.job_results import Created, JobPage, VersionPage
from trainjobs.domain.run_records import CreatedVersion, RunVersion
from trainjobs.domain.runner import Runner, version_name
from trainjobs.domain.version_diff import VersionDiff, VersionRecord, diff_versions
from trainjobs.domain.version_resolution import VersionResolver
from trainjobs.domain.version_rows import (
    SNAPSHOT_FIELDS,
    config_of,
    effective_duration,
    snapshot,
    version_values,
)
from trainjobs.objectstore import ObjectStore
from trainjobs.statuses import ACTIVE, Status
from trainjobs.store import jobs as q
from trainjobs.store.database import Database
from trainjobs.store.identity import get_project

__all__ = [
    "SNAPSHOT_FIELDS",
    "Created",
    "JobPage",
    "JobService",
    "VersionPage",
    "config_of",
    "effective_duration",
    "snapshot",
]


class JobService:
    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        catalog: Catalog,
        runner: Runner,
        datasets: DatasetService,
        host_paths: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.store = store
        self.catalog = catalog
        self.runner = runner
        self.versions = VersionResolver(store, catalog, runner, datasets, host_paths)

    # -- jobs -----------------------------------------------------------------

    def create_job(
        self,
        project_id: str,
        *,
        job_name: str,
        job_desc: str,
        workspace_id: str,
        config: Mapping[str, Any],
        create_version: bool,
    ) -> Created:
        resolved = self.versions.resolve(project_id, None, config) if create_version else None
        now = now_ms()
        resource_id = f"job{secrets.token_hex(4)}"
        try:
            with self.db.write() as conn:
                quota = self._quota(conn, project_id)
                if q.count_project_jobs(conn, project_id) >= quota:
                    raise errors.QuotaExceeded(
                        f"the project has reached its quota of {quota} training jobs; "
                        "delete a job first"
                    )
                if q.job_name_taken(conn, project_id, job_name):
                    raise errors.DuplicateJobName(f"Job name:{job_name} is existed")
                job_id = q.insert_job(
                    conn,
                    project_id=project_id,
                    workspace_id=workspace_id,
                    job_name=job_name,
                    job_desc=job_desc,
                    resource_id=resource_id,
                    create_time=now,
                )
                version_id, number, version = 0, 0, None
                if resolved is not None:
                    version_id, number, version = self._insert_version(
                        conn, job_id, job_name, resolved, 0, now, resource_id
                    )
        except IntegrityError as exc:  # a concurrent create took the name first
            raise errors.DuplicateJobName(f"Job name:{job_name} is existed") from exc
        if version is not None and resolved is not None:
            created = CreatedVersion(version, project_id, job_name)
            self.runner.launch(version_id, resolved.pool.pool_id, created)
        return Created(
            job_id=job_id,
            job_name=job_name,
            status=int(Status.INIT) if version_id else 0,
            create_time=now,
            version_id=version_id,
            version_name=version_name(number) if number else "",
            resource_id=resource_id,
        )

    def _quota(self, conn: sa.Connection, project_id: str) -> int:
        project = get_project(conn, project_id)
        return int(project.job_quota) if project else 0

    def list_jobs(
        self,
        project_id: str,
        *,
        workspace_id: str,
        statuses: Sequence[int],
        search: str,
        sort_by: str,
        descending: bool,
        page: int,
        per_page: int,
    ) -> JobPage:
        with self.db.read() as conn:
            total, rows = q.list_jobs(
                conn,
                project_id=project_id,
                workspace_id=workspace_id,
                statuses=statuses,
                search=search,
                sort_by=sort_by,
                descending=descending,
                limit=per_page,
                offset=(page - 1) * per_page,
            )
            quota = self._quota(conn, project_id)
            left = max(0, quota - q.count_project_jobs(conn, project_id))
        return JobPage(total=total, quota=quota, left=left, jobs=rows)

    def _job(self, conn: sa.Connection, project_id: str, job_id: int) -> sa.Row:
        job = q.get_job(conn, project_id, job_id)
        if job is None:
            raise errors.NotFound(f"training job {job_id} does not exist")
        return job

    def update_job(self, project_id: str, job_id: int, job_desc: str) -> None:
        with self.db.write() as conn:
            self._job(conn, project_id, job_id)
            q.update_job_desc(conn, job_id, job_desc)

    def delete_job(self, project_id: str, job_id: int) -> None:
        with self.db.write() as conn:
            self._job(conn, project_id, job_id)
            active = q.version_ids_of_job(conn, job_id, ACTIVE)
            every = q.version_ids_of_job(conn, job_id, tuple(Status))
            q.delete_job(conn, job_id)
        for version_id in active:
            self.runner.request_stop(version_id, deleted=True)
        for version_id in every:
            self.runner.discard(version_id)

    # -- versions -------------------------------------------------------------

    def _insert_version(
        self,
        conn: sa.Connection,
        job_id: int,
        job_name: str,
        resolved: configs.Resolved,
        pre_version_id: int,
        now: int,
        resource_id: str,
        code_digest: str = "",
    ) -> tuple[int, int, RunVersion]:
        number = q.claim_version_number(conn, job_id)
        values = version_values(
            resolved,
            job_id=job_id,
            job_name=job_name,
            number=number,
            pre_version_id=pre_version_id,
            now=now,
            resource_id=resource_id,
            owner=self.runner.server_id,
            code_digest=code_digest,
        )
        version_id = q.insert_version(conn, **values)
        row = q.get_version_by_id(conn, version_id)  # as written, for the run to start from
        assert row is not None
        return version_id, number, RunVersion.from_row(row)

    def create_version(
        self,
        project_id: str,
        job_id: int,
        *,
        job_desc: str | None,
        config: Mapping[str, Any],
        pre_version_id: int | None,
        rerun_of: int | None = None,
    ) -> Created:
        """A new version; with ``rerun_of``, one that runs that version's code
        snapshot with its configuration (``config`` may still change its
        parameters or resources, not its code)."""
        if rerun_of:
            pinned = sorted(k for k in ("app_url", "boot_file_url") if k in config)
            if pinned:
                raise errors.InvalidParameter(
                    f"a re-run runs the code of version {rerun_of}: leave out {', '.join(pinned)}"
                    " (create an ordinary version to run other code)"
                )
            if pre_version_id and pre_version_id != rerun_of:
                raise errors.InvalidParameter(
                    f"a re-run derives from the version it re-runs: pre_version_id "
                    f"{pre_version_id} differs from rerun_of {rerun_of}"
                )
            pre_version_id = rerun_of
        with self.db.read() as conn:
            job = self._job(conn, project_id, job_id)
            if pre_version_id:
                parent_row = q.get_version(conn, job_id, pre_version_id)
                if parent_row is None:
                    raise errors.NotFound(
                        f"pre_version_id {pre_version_id} is not a version of job {job_id}"
                    )
            else:
                parent_row = q.latest_version(conn, job_id)
        code_digest = ""
        if rerun_of and parent_row is not None:
            code_digest = parent_row.code_digest
            if not code_digest:
                raise errors.StatusConflict(
                    f"version {rerun_of} has not staged its code yet, so there is no snapshot "
                    "to re-run; wait until it runs"
                )
        parent = None
        if parent_row is not None:
            parent = config_of(parent_row)
            own_default = configs.default_train_url(job.job_name, version_name(parent_row.number))
            if parent.train_url == own_default:
                parent = configs.replace_default_train_url(parent)
        resolved = self.versions.resolve(project_id, parent, config, check_code=not code_digest)
        now = now_ms()
        with self.db.write() as conn:
            job = self._job(conn, project_id, job_id)  # it may have been deleted meanwhile
            if job_desc is not None:
                q.update_job_desc(conn, job_id, job_desc)
            version_id, number, version = self._insert_version(
                conn,
                job_id,
                job.job_name,
                resolved,
                pre_version_id=parent_row.id if parent_row is not None else 0,
                now=now,
                resource_id=job.resource_id,
                code_digest=code_digest,
            )
        created = CreatedVersion(version, project_id, job.job_name)
        self.runner.launch(version_id, resolved.pool.pool_id, created)
        return Created(
            job_id=job_id,
            job_name=job.job_name,
            status=int(Status.INIT),
            create_time=now,
            version_id=version_id,
            version_name=version_name(number),
            resource_id=job.resource_id,
        )

    def list_versions(
        self,
        project_id: str,
        job_id: int,
        page: int,
        per_page: int,
        known: Callable[[int, int], bool] | None = None,
    ) -> VersionPage:
        """A page of versions, newest first. With ``known`` (version id, status ->
        whether the caller holds what it needs of that version), the versions it
        knows are read as (id, status) only."""
        with self.db.read() as conn:
            job = self._job(conn, project_id, job_id)
            if page and (page - 1) * per_page >= job.version_count:
                return VersionPage(job=job, versions=[])
            limit, offset = (None, 0) if page == 0 else (per_page, (page - 1) * per_page)
            if known is None:
                return VersionPage(job=job, versions=q.list_versions(conn, job, limit, offset))
            heads = q.list_versions(conn, job, limit, offset, q.HEAD_COLUMNS)
            wanted = [h.id for h in heads if not known(h.id, h.status)]
            full = {row.id: row for row in q.version_summaries(conn, wanted)}
        return VersionPage(job=job, versions=[full.get(h.id, h) for h in heads])

    def get_version(self, project_id: str, job_id: int, version_id: int) -> VersionPage:
        with self.db.read() as conn:
            job = self._job(conn, project_id, job_id)
            row = q.get_version(conn, job_id, version_id)
        if row is None:
            raise errors.NotFound(f"version {version_id} of training job {job_id} does not exist")
        return VersionPage(job=job, versions=[row])

    def diff_versions(self, project_id: str, job_id: int, a_id: int, b_id: int) -> VersionDiff:
        """How version ``b_id`` of a job differs from ``a_id``."""
        with self.db.read() as conn:
            self._job(conn, project_id, job_id)
            rows = {vid: q.get_version(conn, job_id, vid) for vid in (a_id, b_id)}
        for vid, row in rows.items():
            if row is None:
                raise errors.NotFound(f"version {vid} of training job {job_id} does not exist")
        a, b = (VersionRecord.from_row(rows[v]) for v in (a_id, b_id))
        return diff_versions(self.store.for_project(project_id), a, b)

    def delete_version(self, project_id: str, job_id: int, version_id: int) -> None:
        with self.db.write() as conn:
            self._job(conn, project_id, job_id)
            row = q.get_version(conn, job_id, version_id)
            if row is None:
                raise errors.NotFound(
                    f"version {version_id} of training job {job_id} does not exist"
                )
            q.delete_version(conn, job_id, version_id)
        if Status(row.status).is_active:
            self.runner.request_stop(version_id, deleted=True)
        self.runner.discard(version_id)

    def stop_version(self, project_id: str, job_id: int, version_id: int) -> None:
        for _attempt in range(3):  # the status may move under us; each retry re-reads it
            with self.db.write() as conn:
                self._job(conn, project_id, job_id)
                row = q.get_version(conn, job_id, version_id)
                if row is None:
                    raise errors.NotFound(
                        f"version {version_id} of training job {job_id} does not exist"
                    )
                status = Status(row.status)
                if not status.is_active:
                    raise errors.StatusConflict(
                        f"version {version_id} has already ended (status {int(status)}); "
                        "nothing to stop"
                    )
                try:
                    if status in (Status.INIT, Status.WAITING):
                        q.transition(
                            conn, version_id, Status.CANCELED, failure_reason="canceled on request"
                        )
                    elif status == Status.RUNNING:
                        q.transition(conn, version_id, Status.KILLING)
                except q.IllegalTransition:
                    continue
            if self.runner.request_stop(version_id) or status == Status.INIT:
                return
            if row.owner != self.runner.server_id and self.runner.owner_is_alive(row.owner):
                return  # the server that runs it sees the request and stops it
            # Nothing runs it any more: the stop is already complete.
            with self.db.write() as conn, contextlib.suppress(q.IllegalTransition):
                q.transition(conn, version_id, Status.KILLED, failure_reason="stopped on request")
            return
        raise errors.StatusConflict(f"version {version_id} changed status repeatedly; try again")
