"""The run supervisor's face to the service: launch, stop and discard versions,
start and shut down the server's share of the runs.

The work lies beside it: ``run_supervision`` (one thread per version, from
grant to final status), ``run_staging`` (code, data and the workers' spec),
``run_outputs`` (publishing and model metrics) and ``server_membership``
(heartbeats, takeover of dead servers' versions, recovery after a restart).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from trainjobs.domain import run_outputs
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.datasets import DatasetService
from trainjobs.domain.run_records import CreatedVersion, RunPaths, log_file_name, version_name
from trainjobs.domain.run_staging import NO_CONTAINER_NOTE, RunKeys, Stager, StagingError
from trainjobs.domain.run_start import PLACEMENT_POLL_S, PLACEMENT_QUIET_S
from trainjobs.domain.run_supervision import Supervisor
from trainjobs.domain.scheduler import Resources, Scheduler
from trainjobs.domain.server_membership import Membership
from trainjobs.executors.base import Executor, WaitsForPlacement
from trainjobs.executors.sampler import Sampler, Series
from trainjobs.objectstore import ObjectStore
from trainjobs.store import jobs as q
from trainjobs.store.database import Database

__all__ = [
    "DEAD_AFTER_S",
    "HEARTBEAT_S",
    "NO_CONTAINER_NOTE",
    "OUTPUT_SYNC_PERIOD_S",
    "PLACEMENT_POLL_S",
    "PLACEMENT_QUIET_S",
    "STOP_GRACE_S",
    "RunKeys",
    "RunPaths",
    "Runner",
    "StagingError",
    "WaitsForPlacement",
    "log_file_name",
    "version_name",
]

STOP_GRACE_S = 10.0
HEARTBEAT_S = 5.0
DEAD_AFTER_S = 30.0  # a heartbeat older than this: the server is dead
OUTPUT_SYNC_PERIOD_S = 60.0


class Runner:
    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        executor: Executor,
        catalog: Catalog,
        runs_dir: Path,
        stop_grace_s: float = STOP_GRACE_S,
        sampler: Sampler | None = None,
        datasets: DatasetService | None = None,
        sync_period_s: float = OUTPUT_SYNC_PERIOD_S,
        scheduler: Scheduler | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        dead_after_s: float = DEAD_AFTER_S,
        object_endpoint_url: str = "",
        run_keys: RunKeys | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.executor = executor
        self.catalog = catalog
        self.runs_dir = runs_dir
        self.stop_grace_s = stop_grace_s
        self.datasets = datasets
        self.sync_period_s = sync_period_s
        self.scheduler = scheduler or Scheduler(Resources(os.cpu_count() or 1, 1e9, 0))
        # Several servers may share one database: each runs the versions it owns.
        self.server_id = secrets.token_hex(16)
        self.sampler = sampler or Sampler()
        self.sampler.on_sample = self._store_live_metrics
        self.sampler.on_over_memory = self._over_memory
        self.run_keys = run_keys
        stager = Stager(store, catalog, datasets, object_endpoint_url, run_keys)
        self.supervisor = Supervisor(
            db,
            store,
            executor,
            self.scheduler,
            self.sampler,
            stager,
            runs_dir,
            stop_grace_s,
            sync_period_s,
            run_keys,
        )
        self.membership = Membership(
            db,
            self.server_id,
            executor,
            self.scheduler,
            self.supervisor,
            run_keys,
            heartbeat_s,
            dead_after_s,
        )

    def start(self) -> None:
        self.membership.register()
        self.sampler.start()

    def start_membership(self) -> None:
        """Heartbeats, watching owned versions for requests from other servers, and
        taking over the versions of servers that died."""
        self.membership.start()

    def owner_is_alive(self, owner: str) -> bool:
        """Whether the server that owns a version runs and could act on it."""
        return self.membership.owner_is_alive(owner)

    def recover(self) -> dict[str, int]:
        """Pick up what dead servers (or this one before a restart) left active."""
        return self.membership.recover()

    def paths(self, version_id: int) -> RunPaths:
        return self.supervisor.paths(version_id)

    # -- requests from the service ---------------------------------------------

    def launch(
        self, version_id: int, pool_id: str | None = None, created: CreatedVersion | None = None
    ) -> None:
        """Run a new version; with its pool, its place in that pool's queue is taken at once.
        ``created``: the version as its request wrote it (else it is read back)."""
        self.supervisor.launch(version_id, pool_id, created)

    def request_stop(self, version_id: int, deleted: bool = False) -> bool:
        """Ask a run to end; False if no run of this version is alive here."""
        return self.supervisor.request_stop(version_id, deleted)

    def discard(self, version_id: int) -> None:
        """Remove the work folder of a deleted version that no run holds."""
        if self.supervisor.get(version_id) is None:
            shutil.rmtree(self.paths(version_id).root, ignore_errors=True)

    def shutdown(self, timeout_s: float) -> None:
        """Stop every run (they end KILLED) and wait for their supervisors."""
        runs = list(self.supervisor.active().values())
        for run in runs:
            self.request_stop(run.version_id)
        for run in runs:
            if run.thread is not None:
                run.thread.join(timeout=timeout_s)
        self.membership.stop(timeout_s)
        # An executor that keeps processes ready for the next run ends them.
        close = getattr(self.supervisor.executor, "close", None)
        if close is not None:
            close()
        self.supervisor.spare_folders.close()
        self.sampler.stop()
        self.membership.unregister()

    # -- the sampler's reports ---------------------------------------------------

    def _over_memory(self, run_id: str, used_gib: float, limit_gib: float) -> None:
        """A run past its spec's memory is ended, as a container's limit would."""
        run = self.supervisor.get(int(run_id))
        if run is None:
            return
        run.over_memory = (
            f"used {used_gib:.2f} GiB of memory, more than the {limit_gib:g} GiB of its spec; "
            "choose a larger spec or use less memory"
        )
        self.request_stop(run.version_id)

    def _store_live_metrics(self, snapshot: dict[str, Series]) -> None:
        runs = {str(k): r for k, r in self.supervisor.active().items()}
        updates = run_outputs.live_metric_updates(runs, snapshot)
        with self.db.write() as conn:
            for version_id, fields in updates:
                q.update_live_metrics(conn, version_id, **fields)
