"""Supervision of the runs this server holds: one thread per version, from its
grant to its final status.

It is the only writer of a run's lifecycle: RUNNING with its start time, and
the final status with its duration. Stop and delete requests reach it through
``request_stop``; the status machine (a compare-and-set in the store) settles
races between a stop and a run that ends on its own.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainjobs.domain import run_outputs
from trainjobs.domain.clock import now_ms
from trainjobs.domain.run_admission import Admission, Granted
from trainjobs.domain.run_folders import SpareRunFolders
from trainjobs.domain.run_records import (
    ActiveRun,
    CreatedVersion,
    RunPaths,
    RunVersion,
    demand,
    int_or_one,
    note,
)
from trainjobs.domain.run_staging import RunKeys, Stager
from trainjobs.domain.run_start import Starter
from trainjobs.domain.scheduler import Scheduler
from trainjobs.executors.base import (
    Executor,
    ReadiesAhead,
    RunHandle,
    SamplesRemotely,
    StagesOnNodes,
)
from trainjobs.executors.sampler import Sampler, Series
from trainjobs.objectstore import ObjectStore
from trainjobs.statuses import Status
from trainjobs.store import jobs as q
from trainjobs.store.database import Database

log = logging.getLogger(__name__)

# What the next run takes (a spare run folder, a waiting worker parent) is made
# again once the run that took it ended, or ran this long: made at its start,
# it would compete for the CPU with the run's own start.
READY_NEXT_AFTER_S = 0.25


class Supervisor:
    """The runs held here, each followed by a thread of its own."""

    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        executor: Executor,
        scheduler: Scheduler,
        sampler: Sampler,
        stager: Stager,
        runs_dir: Path,
        stop_grace_s: float,
        sync_period_s: float,
        run_keys: RunKeys | None,
    ) -> None:
        self.db = db
        self.store = store
        self.executor = executor
        self.scheduler = scheduler
        self.sampler = sampler
        self.stager = stager
        self.runs_dir = runs_dir
        self.stop_grace_s = stop_grace_s
        self.sync_period_s = sync_period_s
        self.run_keys = run_keys
        self._runs: dict[int, ActiveRun] = {}
        self._lock = threading.Lock()
        # Workers on nodes without this server's run folders (Ray without shared storage).
        self.stages_on_nodes = isinstance(executor, StagesOnNodes) and executor.stages_on_nodes
        self.spare_folders = SpareRunFolders(runs_dir)
        self.starter = Starter(
            db, executor, stager, self.stages_on_nodes, sync_period_s, self._finish
        )
        self.admission = Admission(db, scheduler, self.starter, self.paths, self.spare_folders)

    def paths(self, version_id: int) -> RunPaths:
        return RunPaths(self.runs_dir / str(version_id))

    def active(self) -> dict[int, ActiveRun]:
        """The runs held here now, by version."""
        with self._lock:
            return dict(self._runs)

    def get(self, version_id: int) -> ActiveRun | None:
        with self._lock:
            return self._runs.get(version_id)

    def launch(
        self, version_id: int, pool_id: str | None = None, created: CreatedVersion | None = None
    ) -> None:
        if pool_id is not None:
            # Its place in the queue now, in the order versions are created, not
            # in the order their threads happen to reach the scheduler.
            self.scheduler.enqueue(version_id, pool_id)
        run = self._register(ActiveRun(version_id, created))
        admitted = created is not None and pool_id is not None
        early = self.admission.early(run) if admitted else None
        self._start_thread(run, lambda r: self._run(r, early))

    def adopt(self, run: ActiveRun) -> None:
        """Follow a run whose workers outlived the server that started them."""
        self._start_thread(self._register(run), self._follow_adopted)

    def _register(self, run: ActiveRun) -> ActiveRun:
        with self._lock:  # from now on a stop request finds it
            self._runs[run.version_id] = run
        return run

    def _start_thread(self, run: ActiveRun, body: Callable[[ActiveRun], None]) -> None:
        run.thread = threading.Thread(
            target=self._supervise,
            args=(run, body),
            name=f"run-{run.version_id}",
            daemon=True,
        )
        run.thread.start()

    def request_stop(self, version_id: int, deleted: bool = False) -> bool:
        """Ask a run to end; False if no run of this version is alive here."""
        with self._lock:
            run = self._runs.get(version_id)
        if run is None:
            return False
        self.scheduler.cancel(version_id)
        with run.lock:
            run.cancelled = True
            run.deleted = run.deleted or deleted
            handle = run.handle
        if handle is not None:
            threading.Thread(
                target=handle.stop,
                args=(self.stop_grace_s,),
                name=f"stop-{version_id}",
                daemon=True,
            ).start()
        return True

    def _supervise(self, run: ActiveRun, body: Callable[[ActiveRun], None]) -> None:
        try:
            body(run)
        except Exception:  # a bug must not leave a version active forever
            log.exception("supervising version %s failed", run.version_id)
            self._finish(run.version_id, Status.FAILED, 0, "internal error while supervising")
        finally:
            with self._lock:
                self._runs.pop(run.version_id, None)
            if self.run_keys is not None:
                try:
                    self.run_keys.revoke(run.version_id)
                except Exception:  # the run is over either way; its key must not outlive it
                    log.exception("revoking the access key of version %s failed", run.version_id)
            if run.deleted:
                shutil.rmtree(self.paths(run.version_id).root, ignore_errors=True)
            else:
                done = self.paths(run.version_id)
                for folder in (done.code, done.data, done.scratch):
                    shutil.rmtree(folder, ignore_errors=True)

    def _run(self, run: ActiveRun, early: Granted | None = None) -> None:
        granted = early or self.admission.wait_for_place(run)
        if granted is None:
            return
        row = granted.row
        run.store = self.store.for_project(granted.project_id)
        try:
            if not granted.ended:
                started = self.starter.start(
                    run,
                    granted.project_id,
                    row,
                    self.paths(row.id),
                    granted.log_paths,
                    granted.grant,
                    granted.prepared,
                )
                if started is not None:
                    self._follow(
                        run,
                        row,
                        started.handle,
                        started.start_ms,
                        granted.log_paths,
                        Series(self.sampler.period_s),
                        self._ready_next,
                    )
        finally:
            self._ready_next()  # unless made already: a short run's is after its status
            self.scheduler.release(row.id)

    def _ready_next(self) -> None:
        """Make, in the background, what the next run's start takes."""
        self.spare_folders.refill()
        if isinstance(self.executor, ReadiesAhead):
            self.executor.ready_next()

    def _follow_adopted(self, run: ActiveRun) -> None:
        loaded = self.admission.load(run.version_id)
        assert run.handle is not None
        if loaded is None:
            self.scheduler.release(run.version_id)
            run.handle.stop(grace_s=0)
            return
        row, project_id, log_paths = loaded
        run.store = self.store.for_project(project_id)
        try:
            self._follow_adopted_row(run, row, log_paths)
        finally:
            self.scheduler.release(row.id)  # reserved by recover()

    def _follow_adopted_row(self, run: ActiveRun, row: RunVersion, log_paths: list[Path]) -> None:
        assert run.handle is not None
        try:
            recorded = Series.from_wire(json.loads(row.system_metric_list), self.sampler.period_s)
        except (ValueError, TypeError):
            recorded = Series(self.sampler.period_s)
        self._follow(run, row, run.handle, row.start_time, log_paths, recorded)

    def _follow(
        self,
        run: ActiveRun,
        row: RunVersion,
        handle: RunHandle,
        start: int,
        log_paths: list[Path],
        series: Series,
        settled: Callable[[], None] | None = None,
    ) -> None:
        """From a running run to its final status: metrics, publishing, the verdict.
        ``settled``: called if the run is still running after READY_NEXT_AFTER_S."""
        paths = self.paths(row.id)
        run.output, run.log0 = paths.output, log_paths[0]
        if self.stages_on_nodes:
            run.outputs_url = row.train_url
        self.sampler.track(
            str(row.id),
            handle.processes,
            int_or_one(row.core),
            row.gpu_num,
            skip_roots=True,
            series=series,
            memory_limit_gib=demand(row).memory_gib,
            probe=handle.sample if isinstance(handle, SamplesRemotely) else None,
        )

        outcome = None
        if settled is not None and (outcome := handle.wait(timeout=READY_NEXT_AFTER_S)) is None:
            settled()
        # Long runs publish what they have so far, so outputs and logs can be
        # read (and survive) before the run ends.
        while outcome is None and (outcome := handle.wait(timeout=self.sync_period_s)) is None:
            run_outputs.publish(run, row, paths, log_paths)
        duration = max(0, now_ms() - start)
        self.sampler.untrack(str(row.id))
        if run.deleted:
            return
        metrics: dict[str, Any] = {
            "system_metric_list": json.dumps(series.to_wire(), separators=(",", ":"))
        }
        reason = outcome.reason
        if run.over_memory:
            reason = run.over_memory
            note(log_paths[0], f"failed: {reason}")
        elif outcome.stopped:
            note(log_paths[0], "stopped on request")
        elif reason:
            note(log_paths[0], f"failed: {reason}")
        model = run_outputs.model_metrics(run, force=True)
        if model is not None:
            metrics["model_metric_list"] = model
        publish_error = run_outputs.publish(run, row, paths, log_paths)
        if publish_error and not reason:
            reason = publish_error
        if outcome.stopped and not run.over_memory:
            final = Status.KILLED
        elif reason:
            final = Status.FAILED
        else:
            final = Status.COMPLETED
        self._finish(row.id, final, duration, reason, **metrics)

    def _finish(
        self, version_id: int, status: Status, duration: int, reason: str, **fields: Any
    ) -> None:
        try:
            with self.db.write() as conn:
                q.transition(
                    conn,
                    version_id,
                    status,
                    duration=duration,
                    failure_reason=reason[:1024],
                    **fields,
                )
        except q.IllegalTransition:
            pass  # cancelled or deleted meanwhile: that status stands
