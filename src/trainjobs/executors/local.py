"""The local executor: each worker is a process on this machine.

Every worker runs under a small parent (``executors/worker.py``) that records
its pid and exit code in the run's state folder, so a restarted server can
adopt workers it did not start. An ended worker is noticed the moment its
parent exits, through a pidfd (``executors/exits.py``), started or adopted.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trainjobs.executors import exits, processes
from trainjobs.executors import worker as worker_parent
from trainjobs.executors.base import ProcessRef, RunOutcome, RunSpec, WorkerExit

PEER_GRACE_S = 2.0  # after one worker fails, how long the others get to end
# The worker's exit code when its parent vanished without recording one.
UNRECORDED_EXIT = -9


@dataclass
class _Worker:
    rank: int
    state_dir: Path
    popen: subprocess.Popen[bytes] | None  # None when adopted after a restart
    ref: ProcessRef | None
    exit_fd: int | None = None  # readable once the worker's parent ended
    watched: bool = False  # exit_fd was opened (or found impossible) already

    def watch(self) -> int | None:
        """The pidfd of the worker's parent, opened once. For an adopted worker
        the process must still be the one recorded, not a reused pid."""
        if not self.watched and self.ref is not None:
            self.watched = True
            fd = exits.open_exit_fd(self.ref.pid)
            if fd is not None and self.popen is None and processes.find(self.ref) is None:
                exits.close_exit_fd(fd)
                fd = None
            self.exit_fd = fd
        return self.exit_fd

    def unwatch(self) -> None:
        exits.close_exit_fd(self.exit_fd)
        self.exit_fd = None

    @property
    def exit_file(self) -> Path:
        return self.state_dir / f"{self.rank}.exit"

    def recorded_exit(self) -> int | None:
        try:
            return int(self.exit_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def returncode(self) -> int | None:
        """The worker's own return code once it ended; None while it runs."""
        if self.popen is not None:
            if self.popen.poll() is None:
                return None
        elif self.ref is not None and processes.find(self.ref) is not None:
            return None
        recorded = self.recorded_exit()
        if recorded is not None:
            return recorded
        if self.popen is not None and self.popen.returncode not in (None, 0):
            return int(self.popen.returncode)
        return UNRECORDED_EXIT

    @property
    def pid(self) -> int | None:
        return self.ref.pid if self.ref else None


class LocalRun:
    def __init__(self, workers: list[_Worker]) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._stopped = False

    @classmethod
    def launch(cls, spec: RunSpec) -> LocalRun:
        spec.state_dir.mkdir(parents=True, exist_ok=True)
        for stale in spec.state_dir.iterdir():
            stale.unlink()
        run = cls([])
        try:
            for rank, worker in enumerate(spec.workers):
                worker.log_path.parent.mkdir(parents=True, exist_ok=True)
                command = [
                    sys.executable,
                    "-S",  # the parent needs only the standard library: start fast
                    str(Path(worker_parent.__file__).resolve()),
                    str(spec.state_dir),
                    str(rank),
                    "--cpus=" + ",".join(str(c) for c in worker.cpus),
                    "--",
                    *worker.argv,
                ]
                with open(worker.log_path, "ab") as log:
                    popen = subprocess.Popen(
                        command,
                        cwd=worker.cwd,
                        env={**os.environ, **worker.env},
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        # Own session and process group: a stop reaches the
                        # whole tree, and the server's own signals do not.
                        start_new_session=True,
                    )
                ref = ProcessRef(popen.pid, processes.create_time(popen.pid))
                run._workers.append(_Worker(rank, spec.state_dir, popen, ref))
        except BaseException:
            run.stop(grace_s=0)
            raise
        return run

    @classmethod
    def adopt(cls, state_dir: Path, count: int) -> LocalRun | None:
        workers = []
        for rank in range(count):
            ref = None
            with contextlib.suppress(OSError, ValueError, KeyError):
                raw = json.loads((state_dir / f"{rank}.pid").read_text())
                ref = ProcessRef(int(raw["pid"]), float(raw["create_time"]))
            workers.append(_Worker(rank, state_dir, None, ref))
        alive = any(w.ref and processes.find(w.ref) for w in workers)
        recorded = any(w.recorded_exit() is not None for w in workers)
        if not (alive or recorded):
            return None
        return cls(workers)

    @property
    def processes(self) -> Sequence[ProcessRef]:
        return [w.ref for w in self._workers if w.ref is not None]

    def wait(self, timeout: float | None = None) -> RunOutcome | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            codes = [w.returncode() for w in self._workers]
            if all(c is not None for c in codes):
                for w in self._workers:
                    w.unwatch()
                ended = [
                    WorkerExit(w.rank, int(c or 0))
                    for w, c in zip(self._workers, codes, strict=True)
                ]
                return RunOutcome(exits=ended, stopped=self._stopped)
            if any(c not in (None, 0) for c in codes):
                # One failed worker fails the run: the others would wait on it forever.
                self._end_all(PEER_GRACE_S)
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            live = [w for w, c in zip(self._workers, codes, strict=True) if c is None]
            exits.wait_any((w.watch() for w in live), left)

    def stop(self, grace_s: float) -> None:
        with self._lock:
            if any(w.returncode() is None for w in self._workers):
                self._stopped = True
        self._end_all(grace_s)

    def _end_all(self, grace_s: float) -> None:
        live = [w.pid for w in self._workers if w.pid and w.returncode() is None]
        processes.terminate_trees([p for p in live if p], grace_s)
        for w in self._workers:
            if w.popen is not None:
                try:
                    w.popen.wait(timeout=grace_s + 5)
                except subprocess.TimeoutExpired:
                    w.popen.kill()


class LocalExecutor:
    def start(self, spec: RunSpec) -> LocalRun:
        return LocalRun.launch(spec)

    def adopt(self, state_dir: Path, workers: int) -> LocalRun | None:
        return LocalRun.adopt(state_dir, workers)
