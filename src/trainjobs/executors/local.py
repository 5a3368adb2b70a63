"""The local executor: each worker is a process on this machine."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence

import psutil

from trainjobs.executors import processes
from trainjobs.executors.base import ProcessRef, RunOutcome, RunSpec, WorkerExit

WAIT_POLL_S = 0.05


class LocalRun:
    def __init__(self, spec: RunSpec) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._popens: list[subprocess.Popen[bytes]] = []
        self._refs: list[ProcessRef] = []
        try:
            for worker in spec.workers:
                worker.log_path.parent.mkdir(parents=True, exist_ok=True)
                with open(worker.log_path, "ab") as log:
                    popen = subprocess.Popen(
                        list(worker.argv),
                        cwd=worker.cwd,
                        env={**os.environ, **worker.env},
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        # Own session and process group: a stop can reach the
                        # whole tree, and the server's signals do not.
                        start_new_session=True,
                    )
                self._popens.append(popen)
                self._refs.append(ProcessRef(popen.pid, _create_time(popen.pid)))
        except BaseException:
            self.stop(grace_s=0)
            raise

    @property
    def processes(self) -> Sequence[ProcessRef]:
        return list(self._refs)

    def wait(self, timeout: float | None = None) -> RunOutcome | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            codes = [p.poll() for p in self._popens]
            if all(c is not None for c in codes):
                exits = [WorkerExit(rank, int(c or 0)) for rank, c in enumerate(codes)]
                return RunOutcome(exits=exits, stopped=self._stopped)
            if any(c not in (None, 0) for c in codes):
                # One failed worker fails the run: the others would wait on it forever.
                self._end_all(grace_s=2.0)
                continue
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(WAIT_POLL_S)

    def stop(self, grace_s: float) -> None:
        with self._lock:
            alive = any(p.poll() is None for p in self._popens)
            if alive:
                self._stopped = True
        self._end_all(grace_s)

    def _end_all(self, grace_s: float) -> None:
        processes.terminate_trees([p.pid for p in self._popens if p.poll() is None], grace_s)
        for p in self._popens:
            try:
                p.wait(timeout=grace_s + 5)
            except subprocess.TimeoutExpired:
                p.kill()


def _create_time(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return 0.0


class LocalExecutor:
    def start(self, spec: RunSpec) -> LocalRun:
        return LocalRun(spec)
