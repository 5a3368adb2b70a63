"""The run supervisor: one thread per version, from staging to the final status.

It is the only writer of a run's lifecycle: RUNNING with its start time, and
the final status with its duration. Stop and delete requests reach it through
``request_stop``; the status machine (a compare-and-set in the store) settles
races between a stop and a run that ends on its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trainjobs.domain import algorithms, snapshots
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.clock import now_ms
from trainjobs.domain.datasets import DatasetService
from trainjobs.domain.metrics import normalize_model_metrics
from trainjobs.domain.scheduler import Cancelled, Grant, Resources, Scheduler, demand_of
from trainjobs.executors import processes
from trainjobs.executors.base import (
    Executor,
    ProcessRef,
    RunHandle,
    RunSpec,
    SamplesRemotely,
    WaitsForPlacement,
    WorkerResources,
    WorkerSpec,
)
from trainjobs.executors.sampler import Sampler, Series
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.objectstore.store import ObjectNotFound
from trainjobs.report import MODEL_METRICS_FILE
from trainjobs.statuses import ACTIVE, Status
from trainjobs.store import jobs as q
from trainjobs.store import servers as qs
from trainjobs.store.database import Database

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
# A run its executor places at once starts RUNNING without a WAITING blip.
PLACEMENT_QUIET_S = 1.0
PLACEMENT_POLL_S = 1.0
HEARTBEAT_S = 5.0
DEAD_AFTER_S = 30.0  # a heartbeat older than this: the server is dead
OUTPUT_SYNC_PERIOD_S = 60.0
NO_CONTAINER_NOTE = (
    "no container runtime is configured: user_command runs on the host, "
    "user_image_url is recorded only"
)


class StagingError(Exception):
    pass


@dataclass
class _Run:
    version_id: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: bool = False
    deleted: bool = False
    handle: RunHandle | None = None
    thread: threading.Thread | None = None
    output: Path | None = None
    log0: Path | None = None
    metrics_mtime_ns: int = 0
    metrics_complaint: str = ""
    synced: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    over_memory: str = ""  # why the service ended the run, when it held it to its spec
    store: ObjectStore | None = None  # the version's project's namespace


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def workers(self) -> Path:
        return self.root / "workers"


def log_file_name(job_name: str, version_name: str, rank: int) -> str:
    return f"{job_name}-{version_name}.{rank}"


def version_name(number: int) -> str:
    return f"V{number:04d}"


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
    ) -> None:
        self.db = db
        self.store = store
        self.executor = executor
        self.catalog = catalog
        self.runs_dir = runs_dir
        self.stop_grace_s = stop_grace_s
        self._runs: dict[int, _Run] = {}
        self._lock = threading.Lock()
        self.datasets = datasets
        self.sync_period_s = sync_period_s
        self.scheduler = scheduler or Scheduler(Resources(os.cpu_count() or 1, 1e9, 0))
        # Several servers may share one database: each runs the versions it owns.
        self.server_id = secrets.token_hex(16)
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = dead_after_s
        self._stopping = threading.Event()
        self._membership: threading.Thread | None = None
        self.sampler = sampler or Sampler()
        self.sampler.on_sample = self._store_live_metrics
        self.sampler.on_over_memory = self._over_memory

    def start(self) -> None:
        me = processes.create_time(os.getpid())
        with self.db.write() as conn:
            qs.register(conn, self.server_id, socket.gethostname(), os.getpid(), me, now_ms())
        self.sampler.start()

    def start_membership(self) -> None:
        """Heartbeats, watching owned versions for requests from other servers, and
        taking over the versions of servers that died."""
        self._membership = threading.Thread(
            target=self._membership_loop, name="membership", daemon=True
        )
        self._membership.start()

    def _membership_loop(self) -> None:
        while not self._stopping.wait(self.heartbeat_s):
            try:
                with self.db.write() as conn:
                    qs.heartbeat(conn, self.server_id, now_ms())
                self._watch_owned()
                self.recover()
            except Exception:  # membership must outlive a passing database error
                log.exception("server membership pass failed")

    def _watch_owned(self) -> None:
        """Act on stops and deletes that other servers recorded for versions run here."""
        with self._lock:
            runs = dict(self._runs)
        if not runs:
            return
        with self.db.read() as conn:
            statuses = qs.watch(conn, self.server_id, runs)
        for version_id, run in runs.items():
            status = statuses.get(version_id)
            if status is None:
                self.request_stop(version_id, deleted=True)
            elif status in (Status.KILLING, Status.CANCELED) and not run.cancelled:
                self.request_stop(version_id)

    def owner_is_alive(self, owner: str) -> bool:
        """Whether the server that owns a version runs and could act on it."""
        if owner == self.server_id:
            return True
        with self.db.read() as conn:
            found = {row.id: row for row in qs.all_servers(conn)}
        row = found.get(owner)
        return row is not None and not self._is_dead(row)

    def _is_dead(self, row: sa.Row) -> bool:
        if now_ms() - row.heartbeat_at > self.dead_after_s * 1000:
            return True
        # On this machine a crashed server is known dead at once, without waiting
        # for its heartbeat to age.
        if row.host == socket.gethostname():
            return processes.find(ProcessRef(row.pid, row.pid_create_time)) is None
        return False

    def paths(self, version_id: int) -> RunPaths:
        return RunPaths(self.runs_dir / str(version_id))

    # -- requests from the service ---------------------------------------------

    def launch(self, version_id: int) -> None:
        self._start_thread(_Run(version_id), self._run)

    def _start_thread(self, run: _Run, body: Callable[[_Run], None]) -> None:
        run.thread = threading.Thread(
            target=self._supervise,
            args=(run, body),
            name=f"run-{run.version_id}",
            daemon=True,
        )
        with self._lock:
            self._runs[run.version_id] = run
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

    def discard(self, version_id: int) -> None:
        """Remove the work folder of a deleted version that no run holds."""
        with self._lock:
            running = version_id in self._runs
        if not running:
            shutil.rmtree(self.paths(version_id).root, ignore_errors=True)

    def shutdown(self, timeout_s: float) -> None:
        """Stop every run (they end KILLED) and wait for their supervisors."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            self.request_stop(run.version_id)
        for run in runs:
            if run.thread is not None:
                run.thread.join(timeout=timeout_s)
        self._stopping.set()
        if self._membership is not None:
            self._membership.join(timeout=timeout_s)
        self.sampler.stop()
        with self.db.write() as conn:
            qs.unregister(conn, self.server_id)

    def recover(self) -> dict[str, int]:
        """Pick up what dead servers left active (at start, and whenever a server
        sharing the database dies).

        Running versions whose workers are still alive (or ended while no
        server watched, leaving their exit codes) are adopted and followed to
        the end. Versions that never started are started again. The rest are
        LOST, their stray processes ended first.
        """
        with self.db.read() as conn:
            servers = qs.all_servers(conn)
            owners = qs.owners_of_active(conn, [int(x) for x in ACTIVE])
        alive = {r.id for r in servers if r.id == self.server_id or not self._is_dead(r)}
        dead = (owners | {r.id for r in servers}) - alive
        if not dead:
            return {"adopted": 0, "restarted": 0, "lost": 0}
        with self.db.write() as conn:
            claimed = qs.claim(conn, dead, self.server_id, [int(x) for x in ACTIVE])
            qs.forget(conn, dead)
            stale = [row for vid in claimed if (row := q.get_version_by_id(conn, vid))]
        counts = {"adopted": 0, "restarted": 0, "lost": 0}
        for row in stale:
            status = Status(row.status)
            handle = self.executor.adopt(self.paths(row.id).workers, row.worker_server_num)
            log0 = self._log0(row)
            if status in (Status.RUNNING, Status.KILLING) and handle is not None:
                self._note(log0, "the server restarted; it adopted this run and follows it again")
                run = _Run(row.id, handle=handle, cancelled=status == Status.KILLING)
                self._start_thread(run, self._follow_adopted)
                if status == Status.KILLING:
                    self.request_stop(row.id)
                counts["adopted"] += 1
                continue
            if handle is not None:  # started, but its start was never recorded
                handle.stop(grace_s=self.stop_grace_s)
            if status in (Status.INIT, Status.WAITING):
                self._note(log0, "the server restarted before this version started; starting it")
                self.launch(row.id)
                counts["restarted"] += 1
                continue
            reason = "the server restarted and found no trace of this run's workers; it was lost"
            self._note(log0, reason)
            with self.db.write() as conn, contextlib.suppress(q.IllegalTransition):
                fields: dict[str, Any] = {"failure_reason": reason}
                if row.start_time:
                    fields["duration"] = max(0, now_ms() - row.start_time)
                q.transition(conn, row.id, Status.LOST, **fields)
            counts["lost"] += 1
        return counts

    # -- the supervisor thread -------------------------------------------------

    def _log0(self, row: sa.Row) -> Path:
        with self.db.read() as conn:
            job_name = q.job_name_of(conn, row.job_id) or "job"
        return self.paths(row.id).logs / log_file_name(job_name, version_name(row.number), 0)

    @staticmethod
    def _note(log_path: Path, message: str) -> None:
        """A line from the service in the run's log, where the user looks first."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a") as f:
            f.write(f"[trainjobs] {message}\n")

    def _supervise(self, run: _Run, body: Callable[[_Run], None]) -> None:
        try:
            body(run)
        except Exception:  # a bug must not leave a version active forever
            log.exception("supervising version %s failed", run.version_id)
            self._finish(run.version_id, Status.FAILED, 0, "internal error while supervising")
        finally:
            with self._lock:
                self._runs.pop(run.version_id, None)
            if run.deleted:
                shutil.rmtree(self.paths(run.version_id).root, ignore_errors=True)
            else:
                for folder in (self.paths(run.version_id).code, self.paths(run.version_id).data):
                    shutil.rmtree(folder, ignore_errors=True)

    def _load(self, version_id: int) -> tuple[sa.Row, sa.Row, list[Path]] | None:
        """The version, its job and its log paths; None if it was deleted."""
        with self.db.read() as conn:
            row = q.get_version_by_id(conn, version_id)
            job = q.get_job_by_id(conn, row.job_id) if row else None
        if row is None or job is None:
            return None
        vname = version_name(row.number)
        logs = self.paths(row.id).logs
        log_paths = [
            logs / log_file_name(job.job_name, vname, rank) for rank in range(row.worker_server_num)
        ]
        return row, job, log_paths

    def _run(self, run: _Run) -> None:
        loaded = self._load(run.version_id)
        if loaded is None:
            return
        row, job, log_paths = loaded
        run.store = self.store.for_project(job.project_id)
        paths = self.paths(row.id)
        for p in log_paths:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
        demand = _demand(row)

        def on_wait() -> None:
            try:
                with self.db.write() as conn:
                    q.transition(conn, row.id, Status.WAITING)
            except q.IllegalTransition:  # cancelled or deleted already
                self.scheduler.cancel(row.id)
            self._note(log_paths[0], f"waiting for resources: {_describe(demand)}")

        try:
            grant = self.scheduler.acquire(row.id, row.pool_id, demand, on_wait)
        except Cancelled:
            return
        try:
            self._start_granted(run, job, row, paths, log_paths, grant)
        finally:
            self.scheduler.release(row.id)

    def _start_granted(
        self,
        run: _Run,
        job: sa.Row,
        row: sa.Row,
        paths: RunPaths,
        log_paths: list[Path],
        grant: Grant,
    ) -> None:
        if run.cancelled:
            return
        try:
            inputs = self._stage(job.project_id, row, paths, log_paths[0])
            spec = self._run_spec(row, paths, log_paths, grant)
        except StagingError as exc:
            self._note(log_paths[0], f"staging failed: {exc}")
            self._finish(row.id, Status.FAILED, 0, f"staging failed: {exc}")
            return

        with run.lock:
            if run.cancelled:
                return
            try:
                handle = self.executor.start(spec)
            except OSError as exc:
                self._note(log_paths[0], f"could not start the run: {exc}")
                self._finish(row.id, Status.FAILED, 0, f"could not start the run: {exc}")
                return
            run.handle = handle
        if isinstance(handle, WaitsForPlacement):
            self._wait_placed(row, handle)
        start = now_ms()
        try:
            with self.db.write() as conn:
                q.transition(conn, row.id, Status.RUNNING, start_time=start, **inputs)
        except q.IllegalTransition:  # cancelled or deleted while it started
            handle.stop(grace_s=0)
            handle.wait()
            return
        self._follow(run, row, handle, start, log_paths, Series(self.sampler.period_s))

    def _wait_placed(self, row: sa.Row, handle: WaitsForPlacement) -> None:
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

    def _follow_adopted(self, run: _Run) -> None:
        loaded = self._load(run.version_id)
        assert run.handle is not None
        if loaded is None:
            run.handle.stop(grace_s=0)
            return
        row, job, log_paths = loaded
        run.store = self.store.for_project(job.project_id)
        self.scheduler.reserve(row.id, _demand(row))
        try:
            self._follow_adopted_row(run, row, log_paths)
        finally:
            self.scheduler.release(row.id)

    def _follow_adopted_row(self, run: _Run, row: sa.Row, log_paths: list[Path]) -> None:
        assert run.handle is not None
        try:
            recorded = Series.from_wire(json.loads(row.system_metric_list), self.sampler.period_s)
        except (ValueError, TypeError):
            recorded = Series(self.sampler.period_s)
        self._follow(run, row, run.handle, row.start_time, log_paths, recorded)

    def _follow(
        self,
        run: _Run,
        row: sa.Row,
        handle: RunHandle,
        start: int,
        log_paths: list[Path],
        series: Series,
    ) -> None:
        """From a running run to its final status: metrics, publishing, the verdict."""
        paths = self.paths(row.id)
        run.output, run.log0 = paths.output, log_paths[0]
        self.sampler.track(
            str(row.id),
            handle.processes,
            _int(row.core),
            row.gpu_num,
            skip_roots=True,
            series=series,
            memory_limit_gib=_demand(row).memory_gib,
            probe=handle.sample if isinstance(handle, SamplesRemotely) else None,
        )

        # Long runs publish what they have so far, so outputs and logs can be
        # read (and survive) before the run ends.
        while (outcome := handle.wait(timeout=self.sync_period_s)) is None:
            self._publish(run, row, paths, log_paths)
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
            self._note(log_paths[0], f"failed: {reason}")
        elif outcome.stopped:
            self._note(log_paths[0], "stopped on request")
        elif reason:
            self._note(log_paths[0], f"failed: {reason}")
        model = self._model_metrics(run, force=True)
        if model is not None:
            metrics["model_metric_list"] = model
        publish_error = self._publish(run, row, paths, log_paths)
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

    # -- metrics ----------------------------------------------------------------

    def _model_metrics(self, run: _Run, force: bool = False) -> str | None:
        """The run's reported model metrics, if the file changed since last read."""
        if run.output is None:
            return None
        path = run.output / MODEL_METRICS_FILE
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        if mtime == run.metrics_mtime_ns and not force:
            return None
        run.metrics_mtime_ns = mtime
        try:
            return normalize_model_metrics(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            complaint = f"{MODEL_METRICS_FILE} was not used: {exc}"
            if complaint != run.metrics_complaint and run.log0 is not None:
                run.metrics_complaint = complaint
                self._note(run.log0, complaint)
            return None

    def _over_memory(self, run_id: str, used_gib: float, limit_gib: float) -> None:
        """A run past its spec's memory is ended, as a container's limit would."""
        with self._lock:
            run = self._runs.get(int(run_id))
        if run is None:
            return
        run.over_memory = (
            f"used {used_gib:.2f} GiB of memory, more than the {limit_gib:g} GiB of its spec; "
            "choose a larger spec or use less memory"
        )
        self.request_stop(run.version_id)

    def _store_live_metrics(self, snapshot: dict[str, Series]) -> None:
        with self._lock:
            runs = {str(k): r for k, r in self._runs.items()}
        updates = []
        for run_id, series in snapshot.items():
            fields: dict[str, Any] = {
                "system_metric_list": json.dumps(series.to_wire(), separators=(",", ":"))
            }
            run = runs.get(run_id)
            model = self._model_metrics(run) if run is not None else None
            if model is not None:
                fields["model_metric_list"] = model
            updates.append((int(run_id), fields))
        with self.db.write() as conn:
            for version_id, fields in updates:
                q.update_live_metrics(conn, version_id, **fields)

    # -- staging and publishing ------------------------------------------------

    @staticmethod
    def _download(store: ObjectStore, url: str, target: Path, what: str) -> int:
        try:
            return store.download(parse_obs_path(url), target)
        except (InvalidObsPath, ObjectNotFound) as exc:
            raise StagingError(f"{what} {url}: {exc}") from exc
        except OSError as exc:
            raise StagingError(f"{what} {url} could not be read: {exc}") from exc

    def _data_urls(self, project_id: str, row: sa.Row) -> list[str]:
        """The object-store folders of every data input, datasets resolved."""
        urls = [row.data_url] if row.data_url else []
        wanted = [(row.dataset_id, row.dataset_version_id)] if row.dataset_id else []
        for item in json.loads(row.data_source):
            if item.get("data_url"):
                urls.append(item["data_url"])
            elif item.get("dataset_id"):
                wanted.append((item["dataset_id"], item.get("dataset_version", "")))
        for dataset_id, version_id in wanted:
            found = (
                self.datasets.find(project_id, dataset_id, version_id) if self.datasets else None
            )
            if found is None:
                raise StagingError(f"dataset {dataset_id} version {version_id} no longer exists")
            urls.append(found.data_url)
        return urls

    def _stage(self, project_id: str, row: sa.Row, paths: RunPaths, log0: Path) -> dict[str, str]:
        """Stage the code and data; what the RUNNING transition records of them."""
        store = self.store.for_project(project_id)
        for folder in (paths.code, paths.data, paths.output):
            folder.mkdir(parents=True, exist_ok=True)
        if row.code_digest:  # a re-run, or a restart: exactly the code recorded
            try:
                count = snapshots.restore(store, row.code_digest, paths.code)
            except snapshots.SnapshotError as exc:
                raise StagingError(str(exc)) from exc
            self._note(log0, f"staged {count} code file(s) from the snapshot {row.code_digest}")
        elif row.app_url:
            count = self._download(store, row.app_url, paths.code, "code folder")
            self._note(log0, f"staged {count} code file(s) from {row.app_url}")
        elif row.model_id:
            algorithms.stage(row.model_id, paths.code)
            self._note(log0, f"staged built-in algorithm {row.model_id}'s code")
        urls = self._data_urls(project_id, row)
        for url in urls:
            count = self._download(store, url, paths.data, "data folder")
            self._note(log0, f"staged {count} data file(s) from {url}")
        captured = snapshots.capture(store, paths.code, urls, paths.data)
        self._note(log0, captured.keep_error or f"code digest {captured.code_digest}")
        # Recorded with the RUNNING transition: one write less on the way to the run.
        return {
            "code_digest": captured.code_digest,
            "data_manifest": json.dumps(captured.data_manifest, separators=(",", ":")),
        }

    def _run_spec(
        self, row: sa.Row, paths: RunPaths, log_paths: list[Path], grant: Grant
    ) -> RunSpec:
        params = [(p["label"], p["value"]) for p in json.loads(row.parameter)]
        n = row.worker_server_num
        env_common = {
            "PYTHONUNBUFFERED": "1",
            "WORLD_SIZE": str(n),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(_free_port()),
            "VC_WORKER_NUM": str(n),
            "VC_WORKER_HOSTS": ",".join(["127.0.0.1"] * n),
            "TRAINJOBS_DATA_URL": str(paths.data),
            "TRAINJOBS_TRAIN_URL": str(paths.output),
        }
        if row.user_command:
            self._note(log_paths[0], NO_CONTAINER_NOTE)
            argv = ["/bin/sh", "-c", row.user_command]
            env_common.update({label: value for label, value in params})
        else:
            engine = self.catalog.engine(row.engine_id)
            if engine is None:
                raise StagingError(f"engine {row.engine_id} is no longer in the catalogue")
            if row.model_id:
                boot = paths.code / algorithms.BOOT_FILE
            else:
                app = parse_obs_path(row.app_url)
                boot = paths.code / parse_obs_path(row.boot_file_url).relative_to(app)
            if not boot.is_file():
                raise StagingError(f"boot file {row.boot_file_url} is not in the staged code")
            argv = [
                engine.interpreter,
                str(boot),
                f"--data_url={paths.data}",
                f"--train_url={paths.output}",
                *(f"--{label}={value}" for label, value in params),
            ]
        per_worker = max(1, len(grant.core_slots) // n)
        gpus_per_worker = len(grant.gpu_slots) // n
        machine_cores = os.cpu_count() or 1
        workers = []
        for rank in range(n):
            env = {
                **env_common,
                "RANK": str(rank),
                "LOCAL_RANK": str(rank),
                "VC_TASK_INDEX": str(rank),
            }
            if gpus_per_worker:
                mine = grant.gpu_slots[rank * gpus_per_worker : (rank + 1) * gpus_per_worker]
                env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in mine)
            slots = grant.core_slots[rank * per_worker : (rank + 1) * per_worker]
            workers.append(
                WorkerSpec(
                    argv=argv,
                    cwd=paths.code,
                    log_path=log_paths[rank],
                    env=env,
                    # Capacity may be configured above the machine's cores: slots wrap.
                    cpus=tuple(sorted({s % machine_cores for s in slots})),
                )
            )
        resources = WorkerResources(
            cores=max(1, _int(row.core)), memory_gib=_float(row.cpu), gpus=row.gpu_num
        )
        return RunSpec(
            run_id=str(row.id), workers=workers, state_dir=paths.workers, resources=resources
        )

    def _publish(self, run: _Run, row: sa.Row, paths: RunPaths, log_paths: list[Path]) -> str:
        """Upload new or changed outputs and logs; the reason it failed, or ""."""
        store = run.store
        assert store is not None  # set when the run is loaded
        try:
            if row.train_url:
                state = run.synced.setdefault("output", {})
                store.sync(paths.output, parse_obs_path(row.train_url), state)
            if row.log_url:
                state = run.synced.setdefault("logs", {})
                names = {p.name for p in log_paths}
                store.sync(paths.logs, parse_obs_path(row.log_url), state, only=names)
        except (OSError, InvalidObsPath) as exc:
            message = f"uploading results failed: {exc}"
            self._note(log_paths[0], message)
            return message
        return ""


def _demand(row: sa.Row) -> Resources:
    return demand_of(row.core, row.cpu, row.gpu_num, row.worker_server_num)


def _describe(demand: Resources) -> str:
    gpus = f", {demand.gpus} GPU(s)" if demand.gpus else ""
    return f"{demand.cores} core(s), {demand.memory_gib:g} GiB{gpus}"


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 1


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
