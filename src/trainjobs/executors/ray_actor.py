"""One worker's stand-in on its Ray node (see ``executors/ray.py``).

The actor starts the worker the way the local executor does, under the same
recording parent, then answers for it: its exit, a stop of its whole process
tree, its load. It imports Ray only inside the methods that need it, and is
wrapped with ``ray.remote`` by the executor, so this module imports without Ray.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainjobs.executors import exits, processes
from trainjobs.executors import worker as worker_parent
from trainjobs.executors.base import ProcessRef
from trainjobs.executors.sampler import Sampler, Series

UNRECORDED_EXIT = -9  # the worker ended without an exit on record: as if SIGKILLed
# How long one blocking exit query runs in the actor; short enough that the
# queries of a driver that went away do not pile up in the actor's threads.
EXIT_QUERY_S = 30.0


@dataclass
class _Latest(Series):
    """A series that keeps only the last sample: the actor reports, the server keeps series."""

    latest: dict[str, float] = field(default_factory=dict)

    def add(self, sample: dict[str, float], dt_s: float) -> None:
        self.latest = dict(sample)


class WorkerActor:
    """One worker's stand-in on its node: starts it, reports its exit, stops and measures it.

    Wrapped with ``ray.remote`` at run time, so importing this module needs no Ray.
    """

    def __init__(self, state_dir: str, rank: int) -> None:
        self.state_dir = Path(state_dir)
        self.rank = rank
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self._ref: ProcessRef | None = None
        self._stopped = False
        self._sampler = Sampler()
        self._latest = _Latest(base_period_s=1.0)

    def where(self) -> dict[str, Any]:
        """This node: its Ray id, its address, and a port free on it now."""
        import ray

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("", 0))
            port = int(s.getsockname()[1])
        return {
            "node_id": ray.get_runtime_context().get_node_id(),
            "ip": ray.util.get_node_ip_address(),
            "port": port,
        }

    def launch(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        log_path: str,
        cores: int,
        gpus: int,
    ) -> tuple[int, float] | None:
        """Start the worker under its recording parent; its (pid, create time),
        or None when a stop came first."""
        with self._lock:
            if self._stopped:
                return None
            if self._ref is not None:
                return self._ref.pid, self._ref.create_time
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            command = [
                sys.executable,
                "-S",
                str(Path(worker_parent.__file__).resolve()),
                str(self.state_dir),
                str(self.rank),
                "--cpus=",  # Ray sizes the worker by its bundle; it pins nothing
                "--",
                *argv,
            ]
            # Ray's variables here describe this actor's process (its job id, its
            # raylet); the worker is a plain process, as under the local executor.
            base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
            with open(log_path, "ab") as out:
                self._popen = subprocess.Popen(
                    command,
                    cwd=cwd,
                    env={**base, **env},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._ref = ProcessRef(self._popen.pid, processes.create_time(self._popen.pid))
            self._sampler.track(
                "worker", [self._ref], cores, gpus, skip_roots=True, series=self._latest
            )
            return self._ref.pid, self._ref.create_time

    def launched(self) -> tuple[int, float] | None:
        with self._lock:
            return (self._ref.pid, self._ref.create_time) if self._ref else None

    def exit_code(self, timeout_s: float = EXIT_QUERY_S) -> int | None:
        """The worker's return code once it ended; None if it still runs after ``timeout_s``."""
        popen = self._popen
        if popen is None:
            return None
        # Popen.wait(timeout) sleeps in steps of up to 50 ms; a pidfd wakes at the exit.
        fd = exits.open_exit_fd(popen.pid)
        try:
            exits.wait_any([fd], timeout_s)
        finally:
            exits.close_exit_fd(fd)
        code = popen.poll()
        if code is None:
            return None
        recorded = recorded_exit(self.state_dir, self.rank)
        if recorded is not None:
            return recorded
        return int(code) if code != 0 else UNRECORDED_EXIT

    def stop(self, grace_s: float) -> None:
        """End the worker's whole process tree: SIGTERM, then SIGKILL after ``grace_s``."""
        with self._lock:
            self._stopped = True
            popen = self._popen
        if popen is None or popen.poll() is not None:
            return
        processes.terminate_trees([popen.pid], grace_s)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=grace_s + 5)

    def measure(self) -> dict[str, float]:
        """The worker's load now, in the sampler's keys (empty before launch or after exit)."""
        self._latest.latest = {}
        if self._ref is not None:
            self._sampler.sample_once()
        return self._latest.latest


def recorded_exit(state_dir: Path, rank: int) -> int | None:
    try:
        return int((state_dir / f"{rank}.exit").read_text().strip())
    except (OSError, ValueError):
        return None
