"""Server membership: servers sharing one database, their heartbeats, and the
takeover of what a dead server (or this one, before a restart) left active."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trainjobs.domain.clock import now_ms
from trainjobs.domain.run_records import (
    ActiveRun,
    RunVersion,
    demand,
    log_file_name,
    note,
    version_name,
)
from trainjobs.domain.run_staging import RunKeys
from trainjobs.domain.run_supervision import Supervisor
from trainjobs.domain.scheduler import Scheduler
from trainjobs.executors import processes
from trainjobs.executors.base import Executor, ProcessRef
from trainjobs.statuses import ACTIVE, Status
from trainjobs.store import jobs as q
from trainjobs.store import servers as qs
from trainjobs.store.database import Database

log = logging.getLogger(__name__)


class Membership:
    """This server among those sharing the database, and what it takes over."""

    def __init__(
        self,
        db: Database,
        server_id: str,
        executor: Executor,
        scheduler: Scheduler,
        supervisor: Supervisor,
        run_keys: RunKeys | None,
        heartbeat_s: float,
        dead_after_s: float,
    ) -> None:
        self.db = db
        self.server_id = server_id
        self.executor = executor
        self.scheduler = scheduler
        self.supervisor = supervisor
        self.run_keys = run_keys
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = dead_after_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self) -> None:
        me = processes.create_time(os.getpid())
        with self.db.write() as conn:
            qs.register(conn, self.server_id, socket.gethostname(), os.getpid(), me, now_ms())

    def start(self) -> None:
        """Heartbeats, watching owned versions for requests from other servers, and
        taking over the versions of servers that died."""
        self._thread = threading.Thread(target=self._loop, name="membership", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """End the heartbeats (the server stays listed until it unregisters)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def unregister(self) -> None:
        with self.db.write() as conn:
            qs.unregister(conn, self.server_id)

    def _loop(self) -> None:
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
        runs = self.supervisor.active()
        if not runs:
            return
        with self.db.read() as conn:
            statuses = qs.watch(conn, self.server_id, runs)
        for version_id, run in runs.items():
            status = statuses.get(version_id)
            if status is None:
                self.supervisor.request_stop(version_id, deleted=True)
            elif status in (Status.KILLING, Status.CANCELED) and not run.cancelled:
                self.supervisor.request_stop(version_id)

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
            stale = [
                RunVersion.from_row(found)
                for vid in claimed
                if (found := q.get_version_by_id(conn, vid))
            ]
        counts = {"adopted": 0, "restarted": 0, "lost": 0}
        restart: list[int] = []
        for row in sorted(stale, key=lambda r: int(r.id)):
            status = Status(row.status)
            paths = self.supervisor.paths(row.id)
            handle = self.executor.adopt(paths.workers, row.worker_server_num)
            log0 = self._log0(row)
            if status in (Status.RUNNING, Status.KILLING) and handle is not None:
                note(log0, "the server restarted; it adopted this run and follows it again")
                # Held before any queued version may start: adopted runs go on anyway.
                self.scheduler.reserve(row.id, demand(row))
                run = ActiveRun(row.id, handle=handle, cancelled=status == Status.KILLING)
                self.supervisor.adopt(run)
                if status == Status.KILLING:
                    self.supervisor.request_stop(row.id)
                counts["adopted"] += 1
                continue
            if handle is not None:  # started, but its start was never recorded
                handle.stop(grace_s=self.supervisor.stop_grace_s)
            if status in (Status.INIT, Status.WAITING):
                note(log0, "the server restarted before this version started; starting it")
                # Queued now, in creation order, whichever of their threads runs first.
                self.scheduler.enqueue(row.id, row.pool_id)
                restart.append(row.id)
                counts["restarted"] += 1
                continue
            reason = "the server restarted and found no trace of this run's workers; it was lost"
            if self.run_keys is not None:
                with contextlib.suppress(Exception):
                    self.run_keys.revoke(row.id)
            note(log0, reason)
            with self.db.write() as conn, contextlib.suppress(q.IllegalTransition):
                fields: dict[str, Any] = {"failure_reason": reason}
                if row.start_time:
                    fields["duration"] = max(0, now_ms() - row.start_time)
                q.transition(conn, row.id, Status.LOST, **fields)
            counts["lost"] += 1
        for version_id in restart:
            self.supervisor.launch(version_id)
        return counts

    def _log0(self, row: RunVersion) -> Path:
        with self.db.read() as conn:
            job_name = q.job_name_of(conn, row.job_id) or "job"
        return self.supervisor.paths(row.id).logs / log_file_name(
            job_name, version_name(row.number), 0
        )
