"""Starting a granted run: its spec, its code staged, RUNNING, and its workers.

Where the executor can (``PreparesRuns``: the local one), the workers are set
up first and their sandboxes are built while the code is staged; only then
are they let go. A sandbox's set-up is mostly waiting on the kernel, so this
takes much of it off the way from submit to the run. Other executors (Ray)
start the workers in one step. Either way RUNNING follows the start (once a
cluster placed the workers). The first steps (``prepare``) may be taken apart
from the rest: a new version whose pool has room takes them in its request.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainjobs import nofollow
from trainjobs.domain.clock import now_ms
from trainjobs.domain.run_records import ActiveRun, RunPaths, RunVersion, note
from trainjobs.domain.run_staging import RunKey, Stager, StagingError, check_staged
from trainjobs.domain.scheduler import Grant
from trainjobs.executors.base import (
    Executor,
    PreparedRun,
    PreparesRuns,
    RunHandle,
    RunSpec,
    WaitsForPlacement,
)
from trainjobs.statuses import Status
from trainjobs.store import jobs as q
from trainjobs.store.database import Database

# A run its executor places at once starts RUNNING without a WAITING blip.
PLACEMENT_QUIET_S = 1.0
PLACEMENT_POLL_S = 1.0

Finish = Callable[..., None]  # (version_id, status, duration, reason): the final status


@dataclass(frozen=True)
class Started:
    handle: RunHandle
    start_ms: int  # the RUNNING transition's start_time


@dataclass(frozen=True)
class Prepared:
    """A run's first steps, taken: its key, its spec, and its workers holding
    their orders (None where the executor starts them in one step)."""

    key: RunKey | None  # None where runs get no key of their own
    spec: RunSpec
    workers: PreparedRun | None

    def discard(self) -> None:
        if self.workers is not None:
            self.workers.discard()


class _NotStarted(Exception):
    """The executor could not set the run's workers up."""


def _reason(exc: Exception) -> str:
    what = "staging failed" if isinstance(exc, StagingError) else "could not start the run"
    return f"{what}: {exc}"


class Starter:
    def __init__(
        self,
        db: Database,
        executor: Executor,
        stager: Stager,
        stages_on_nodes: bool,
        sync_period_s: float,
        finish: Finish,
    ) -> None:
        self.db = db
        self.executor = executor
        self.stager = stager
        self.stages_on_nodes = stages_on_nodes
        self.sync_period_s = sync_period_s
        self.finish = finish

    def prepare(
        self,
        row: RunVersion,
        paths: RunPaths,
        log_paths: list[Path],
        grant: Grant,
        project_id: str,
    ) -> Prepared | None:
        """A run's first steps: its key minted, its spec made, its workers given
        their orders (their sandboxes built from here on). None when the run
        ended here (its status is written)."""
        try:
            key = self.stager.mint_key(project_id, row.id)
            spec = self.stager.run_spec(row, paths, log_paths, grant, project_id, key)
            return Prepared(key, spec, self._prepare(spec))
        except (StagingError, _NotStarted) as exc:
            self._failed(row, log_paths, _reason(exc))
            return None

    def start(
        self,
        run: ActiveRun,
        project_id: str,
        row: RunVersion,
        paths: RunPaths,
        log_paths: list[Path],
        grant: Grant,
        prepared: Prepared | None = None,
    ) -> Started | None:
        """The started run; None when it ended before it ran (its status is written).
        ``prepared``: its first steps, when they were taken already."""
        if run.cancelled:
            if prepared is not None:
                prepared.discard()
            return None
        if prepared is None:
            prepared = self.prepare(row, paths, log_paths, grant, project_id)
            if prepared is None:
                return None
        spec = prepared.spec
        try:
            # Stored while the sandboxes are built; valid before any worker starts.
            self.stager.keep_key(prepared.key)
            for p in log_paths:  # every worker's log exists, even if the run fails here
                with contextlib.suppress(OSError):
                    nofollow.append_text(paths.root, p, "")
            inputs = self.stager.stage(project_id, row, paths, log_paths[0])
            check_staged(paths, row)
            if self.stages_on_nodes:
                staging = self.stager.node_staging(
                    project_id, row, paths, inputs["code_digest"], self.sync_period_s
                )
                spec = dataclasses.replace(spec, node_staging=staging)
        except (StagingError, _NotStarted) as exc:
            prepared.discard()
            self._failed(row, log_paths, _reason(exc))
            return None
        except BaseException:
            prepared.discard()
            raise
        workers = prepared.workers
        with run.lock:
            if run.cancelled:
                prepared.discard()
                return None
            try:
                handle = workers.begin() if workers is not None else self.executor.start(spec)
            except OSError as exc:
                prepared.discard()
                self._failed(row, log_paths, f"could not start the run: {exc}")
                return None
            run.handle = handle
        if isinstance(handle, WaitsForPlacement):
            self._wait_placed(row, handle)
        # RUNNING once the workers have their go: a version recorded RUNNING
        # always has them going, which is what a restarted server adopts.
        start = now_ms()
        try:
            with self.db.write() as conn:
                q.transition(conn, row.id, Status.RUNNING, start_time=start, **inputs)
        except q.IllegalTransition:  # cancelled or deleted while it started
            handle.stop(grace_s=0)
            handle.wait()
            return None
        return Started(handle, start)

    def _prepare(self, spec: RunSpec) -> PreparedRun | None:
        if not isinstance(self.executor, PreparesRuns) or self.stages_on_nodes:
            return None
        try:
            return self.executor.prepare(spec)
        except OSError as exc:
            raise _NotStarted(str(exc)) from exc

    def _wait_placed(self, row: RunVersion, handle: WaitsForPlacement) -> None:
        """WAITING while the executor's cluster places the workers (Ray pending).

        Returns once they all started, or the start gave up, or a stop ended
        the wait; the RUNNING transition that follows settles which it was.
        """
        if handle.placed(timeout=PLACEMENT_QUIET_S):
            return
        with self.db.write() as conn, contextlib.suppress(q.IllegalTransition):
            q.transition(conn, row.id, Status.WAITING)
        while not handle.placed(timeout=PLACEMENT_POLL_S):
            pass

    def _failed(self, row: RunVersion, log_paths: list[Path], reason: str) -> None:
        note(log_paths[0], reason)
        self.finish(row.id, Status.FAILED, 0, reason)
