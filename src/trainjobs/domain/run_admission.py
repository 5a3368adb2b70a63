"""Admitting a version to run: the version read (or taken as its request wrote
it), its run folder, and its place in its pool, WAITING until the pool has
room. A new version whose pool has room when it is created takes its first
steps (``Starter.prepare``) right in its request's thread instead: its workers
get their orders, and their sandboxes are built from then on, before the
request is answered, so that the answer and the client's next request do not
compete with them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainjobs.domain.run_folders import SpareRunFolders
from trainjobs.domain.run_records import (
    ActiveRun,
    CreatedVersion,
    RunPaths,
    RunVersion,
    demand,
    describe,
    log_file_name,
    note,
    version_name,
)
from trainjobs.domain.run_start import Prepared, Starter
from trainjobs.domain.scheduler import Cancelled, Grant, Scheduler
from trainjobs.statuses import Status
from trainjobs.store import jobs as q
from trainjobs.store.database import Database

log = logging.getLogger(__name__)

Loaded = tuple[RunVersion, str, list[Path]]  # the version, its project, its workers' logs


@dataclass(frozen=True)
class Granted:
    """A version whose pool granted it its place: what its start needs."""

    row: RunVersion
    project_id: str
    log_paths: list[Path]
    grant: Grant
    prepared: Prepared | None = None  # its first steps, where they were taken already
    ended: bool = False  # they ended it (its status is written)


class Admission:
    def __init__(
        self,
        db: Database,
        scheduler: Scheduler,
        starter: Starter,
        paths: Callable[[int], RunPaths],
        spare_folders: SpareRunFolders,
    ) -> None:
        self.db = db
        self.scheduler = scheduler
        self.starter = starter
        self.paths = paths
        self.spare_folders = spare_folders

    def load(self, version_id: int) -> Loaded | None:
        """The version, its job's project and its log paths; None if it was deleted."""
        with self.db.read() as conn:
            row = q.get_version_by_id(conn, version_id)
            job = q.get_job_by_id(conn, row.job_id) if row else None
        if row is None or job is None:
            return None
        return self.loaded(CreatedVersion(RunVersion.from_row(row), job.project_id, job.job_name))

    def loaded(self, created: CreatedVersion) -> Loaded:
        version = created.version
        vname = version_name(version.number)
        logs = self.paths(version.id).logs
        log_paths = [
            logs / log_file_name(created.job_name, vname, rank)
            for rank in range(version.worker_server_num)
        ]
        return version, str(created.project_id), log_paths

    def early(self, run: ActiveRun) -> Granted | None:
        """A new version's place and first steps, taken in its request's thread when
        its pool has room now. None: its own thread takes them (``wait_for_place``)."""
        assert run.created is not None
        grant = None
        try:
            row, project_id, log_paths = self.loaded(run.created)
            grant = self.scheduler.try_acquire(row.id, row.pool_id, demand(row))
            if grant is None:
                return None  # it waits for its turn, in its own thread
            paths = self.paths(row.id)
            self.spare_folders.claim(paths.root)
            prepared = self.starter.prepare(row, paths, log_paths, grant, project_id)
        except Exception:
            # Never the request's failure: the run's thread starts it the usual way.
            log.warning("version %s: started by its thread", run.version_id, exc_info=True)
            if grant is not None:
                self.scheduler.release(run.version_id)
            return None
        return Granted(row, project_id, log_paths, grant, prepared, ended=prepared is None)

    def wait_for_place(self, run: ActiveRun) -> Granted | None:
        """The version and its place, once its pool has room for it (WAITING till
        then); None if it was deleted or cancelled meanwhile."""
        try:
            loaded = self.loaded(run.created) if run.created else self.load(run.version_id)
            if loaded is None:
                self.scheduler.leave(run.version_id)
                return None
            row, project_id, log_paths = loaded
            self.spare_folders.claim(self.paths(row.id).root)
            wanted = demand(row)
        except BaseException:
            self.scheduler.leave(run.version_id)  # a place queued at a restart
            raise

        def on_wait() -> None:
            try:
                with self.db.write() as conn:
                    q.transition(conn, row.id, Status.WAITING)
            except q.IllegalTransition:
                # Already WAITING (queued again after a restart or a takeover)
                # keeps its place; anything else was cancelled or deleted.
                with self.db.read() as conn:
                    current = q.get_version_by_id(conn, row.id)
                if current is None or current.status != Status.WAITING:
                    self.scheduler.cancel(row.id)
            note(log_paths[0], f"waiting for resources: {describe(wanted)}")

        try:
            grant = self.scheduler.acquire(row.id, row.pool_id, wanted, on_wait)
        except Cancelled:
            return None
        return Granted(row, project_id, log_paths, grant)
