"""The TensorBoard of each running visualization job (D26), and its supervisor thread.

The supervisor pulls the event files from the object store into a local folder
every ``sync_period_s``, keeps its TensorBoard process, and ends it on a stop, a
delete, or the schedule's ``stop_at`` (kept in the database, so a restarted server
still honours it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from trainjobs.domain.clock import now_ms
from trainjobs.domain.statuses import Status
from trainjobs.executors import processes
from trainjobs.executors.base import ProcessRef
from trainjobs.executors.tensorboard import TensorBoard
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.store import visualization as q
from trainjobs.store.database import Database

log = logging.getLogger(__name__)

ACTIVE = (int(Status.INIT), int(Status.RUNNING))
READY_TIMEOUT_S = 90.0
PID_FILE = "tensorboard.pid"


def path_prefix(project_id: str, job_id: int) -> str:
    """Where the server proxies the job's TensorBoard (and where TensorBoard serves)."""
    return f"/tensorboard/{project_id}/{job_id}"


def duration_of(row: sa.Row, now: int) -> int:
    """Running time in ms: earlier runs, plus the current one while it runs."""
    if row.status == Status.RUNNING and row.start_time:
        return int(row.duration) + max(0, now - row.start_time)
    return int(row.duration)


@dataclass
class _Job:
    job_id: int
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class TensorBoards:
    """The supervisor threads of the visualization jobs this server runs."""

    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        root: Path,
        *,
        server_id: str,
        hour_s: float,
        sync_period_s: float,
    ) -> None:
        self.db = db
        self.store = store
        self.root = root
        self.server_id = server_id
        self.hour_s = hour_s
        self.sync_period_s = sync_period_s
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def end(self, row: sa.Row, status: Status, reason: str) -> bool:
        now = now_ms()
        with self.db.write() as conn:
            moved = q.move(
                conn,
                row.id,
                ACTIVE,
                status=int(status),
                duration=duration_of(row, now),
                start_time=row.start_time,
                failure_reason=reason,
            )
        self.wake(row.id)
        return moved

    def wake(self, job_id: int) -> _Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.wake.set()
        return job

    def launch(self, job_id: int, resume: bool) -> None:
        with self._lock:
            previous = self._jobs.get(job_id)
            job = _Job(job_id)
            self._jobs[job_id] = job
        if previous is not None:
            previous.wake.set()
        job.thread = threading.Thread(
            target=self._supervise,
            args=(job, resume, previous),
            name=f"viz-{job_id}",
            daemon=True,
        )
        job.thread.start()

    def _supervise(self, job: _Job, resume: bool, previous: _Job | None) -> None:
        if previous is not None and previous.thread is not None:
            previous.thread.join(timeout=30)
        try:
            self._serve(job, resume)
        except Exception as exc:  # a supervisor must leave a verdict behind
            log.exception("visualization job %s failed", job.job_id)
            with self.db.read() as conn:
                row = q.get_by_id(conn, job.job_id)
            if row is not None and not self._closing.is_set():
                self.end(row, Status.FAILED, f"the visualization job failed: {exc}")
        finally:
            with self._lock:
                if self._jobs.get(job.job_id) is job:
                    del self._jobs[job.job_id]
            with self.db.read() as conn:
                gone = q.get_by_id(conn, job.job_id) is None
            if gone:
                shutil.rmtree(self.root / str(job.job_id), ignore_errors=True)

    def _serve(self, job: _Job, resume: bool) -> None:
        with self.db.read() as conn:
            row = q.get_by_id(conn, job.job_id)
        if row is None or row.status not in ACTIVE:
            return
        folder = self.root / str(row.id)
        logdir = folder / "logs"
        logdir.mkdir(parents=True, exist_ok=True)
        store = self.store.for_project(row.project_id)
        pulled: dict[str, tuple[int, int]] = {}
        self._pull(store, row.train_url, logdir, pulled)
        board = TensorBoard(
            logdir, _free_port(), path_prefix(row.project_id, row.id), folder / "tensorboard.log"
        )
        board.start()
        assert board.proc is not None
        ref = ProcessRef(board.proc.pid, processes.create_time(board.proc.pid))
        (folder / PID_FILE).write_text(json.dumps([ref.pid, ref.create_time]))
        try:
            if not board.wait_ready(READY_TIMEOUT_S, job.wake):
                if not job.wake.is_set():
                    self.end(row, Status.FAILED, _tail(folder / "tensorboard.log"))
                return
            now = now_ms()
            start_time = row.start_time if resume and row.start_time else now
            stop_at = row.stop_at if resume else 0
            if not stop_at and row.schedule_hours:
                stop_at = now + int(row.schedule_hours * self.hour_s * 1000)
            with self.db.write() as conn:
                started = q.move(
                    conn,
                    row.id,
                    ACTIVE,
                    status=int(Status.RUNNING),
                    start_time=start_time,
                    stop_at=stop_at,
                    port=board.port,
                    owner=self.server_id,
                )
            if not started:
                return
            self._follow(job, board, store, row.train_url, logdir, pulled, stop_at)
        finally:
            board.stop()
            (folder / PID_FILE).unlink(missing_ok=True)

    def _follow(
        self,
        job: _Job,
        board: TensorBoard,
        store: ObjectStore,
        train_url: str,
        logdir: Path,
        pulled: dict[str, tuple[int, int]],
        stop_at: int,
    ) -> None:
        while True:
            wait_s = self.sync_period_s
            if stop_at:
                wait_s = max(0.0, min(wait_s, (stop_at - now_ms()) / 1000))
            job.wake.wait(wait_s)
            if self._closing.is_set():
                return
            with self.db.read() as conn:
                row = q.get_by_id(conn, job.job_id)
            if row is None or row.status != Status.RUNNING or row.owner != self.server_id:
                return
            if job.wake.is_set():
                job.wake.clear()
            if stop_at and now_ms() >= stop_at:
                hours = row.schedule_hours
                self.end(row, Status.KILLED, f"stopped by its schedule after {hours} hour(s)")
                return
            if not board.alive():
                self.end(row, Status.FAILED, "TensorBoard ended unexpectedly")
                return
            self._pull(store, train_url, logdir, pulled)

    @staticmethod
    def _pull(
        store: ObjectStore, train_url: str, logdir: Path, pulled: dict[str, tuple[int, int]]
    ) -> None:
        try:
            store.pull(parse_obs_path(train_url), logdir, pulled)
        except (OSError, InvalidObsPath) as exc:
            log.warning("fetching event files from %s failed: %s", train_url, exc)

    def end_orphan(self, job_id: int) -> None:
        """A TensorBoard left by a server that crashed is ended before a new one starts."""
        pid_file = self.root / str(job_id) / PID_FILE
        with contextlib.suppress(OSError, ValueError, TypeError):
            pid, created = json.loads(pid_file.read_text())
            proc = processes.find(ProcessRef(int(pid), float(created)))
            if proc is not None:
                processes.terminate_trees([proc.pid], grace_s=5)

    def shutdown(self, timeout_s: float) -> None:
        """End every TensorBoard; running jobs stay RUNNING for the next server."""
        self._closing.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.wake.set()
        for job in jobs:
            if job.thread is not None:
                job.thread.join(timeout=timeout_s)
        with self.db.write() as conn:
            for job in jobs:
                row = q.get_by_id(conn, job.job_id)
                if row is not None and row.owner == self.server_id and row.status in ACTIVE:
                    q.update(conn, job.job_id, owner="")


def _tail(path: Path, limit: int = 900) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        text = ""
    return ("TensorBoard did not start: " + text[-limit:].strip())[:1024]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
