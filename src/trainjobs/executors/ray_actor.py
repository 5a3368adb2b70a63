"""One worker's stand-in on its Ray node (see ``executors/ray.py``).

The actor starts the worker the way the local executor does, under the same
recording parent, then answers for it: its exit, a stop of its whole process
tree, its load. On a node without the server's run folders (``NodeStaging``)
it first fills a run folder of the node's own from the object store, runs the
worker there, uploads its outputs while it runs and before its exit is
reported, and hands the server its log as it grows. It imports Ray only inside
the methods that need it, and is wrapped with ``ray.remote`` by the executor,
so this module imports without Ray.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainjobs import nofollow
from trainjobs.executors import exits, processes, sandbox
from trainjobs.executors.base import Bind, NodeStaging, ProcessRef, WorkerSpec
from trainjobs.executors.node_staging import (
    OutputUploads,
    Relocation,
    StagingFailed,
    make_folders,
    node_run_root,
    run_store,
    stage_inputs,
)
from trainjobs.executors.sampler import Sampler, Series
from trainjobs.objectstore.store import StoreUnavailable

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

    def __init__(
        self,
        state_dir: str,
        rank: int,
        staging: dict[str, Any] | None = None,
        folder: str = "",
    ) -> None:
        self.rank = rank
        # Without the server's run folders: the node's own, named ``folder``
        # (the run's placement group, unique on the cluster) under the node's root.
        self._staging = NodeStaging.from_wire(staging) if staging else None
        self._where: Relocation | None = None
        self._node_root: Path | None = None
        if self._staging is not None:
            self._node_root = node_run_root() / folder
            self._where = Relocation(self._staging.root, self._node_root)
            state_dir = self._where.text(state_dir)
        self.state_dir = Path(state_dir)
        self._uploads: OutputUploads | None = None
        self._log_path: Path | None = None  # the worker's log on this node
        self._stage_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._published = False
        self._upload_problem = ""  # why the final upload of the outputs failed
        self._ended = threading.Event()  # the worker ended: periodic uploads stop
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

    def stage(self, env: dict[str, str], log_path: str) -> str:
        """Fill this node's run folder from the object store; why it could not, or "".
        Nothing to do on a node that shares the server's run folders."""
        if self._staging is None or self._where is None:
            return ""
        with self._stage_lock:
            if self._uploads is not None:
                return ""
            log = self._where.path(Path(log_path))
            try:
                log.parent.mkdir(parents=True, exist_ok=True)
                self.state_dir.mkdir(parents=True, exist_ok=True)
                store = run_store(env)
                lines = stage_inputs(store, self._staging, self._where)
            except (StagingFailed, StoreUnavailable, OSError) as exc:
                return str(exc)
            for line in lines:
                _note(log, line)
            self._uploads = OutputUploads(store, self._staging, self._where)
        return ""

    def launch(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        log_path: str,
        cores: int,
        gpus: int,
        binds: list[dict[str, Any]] | None = None,
        scratch: str = "",
        policy: dict[str, Any] | None = None,
    ) -> tuple[int, float] | None:
        """Start the worker under its recording parent, in the sandbox the policy
        describes as built on this node; its (pid, create time), or None when a
        stop came first."""
        with self._lock:
            if self._stopped:
                return None
            if self._ref is not None:
                return self._ref.pid, self._ref.create_time
            worker = WorkerSpec(
                argv=argv,
                cwd=Path(cwd),
                log_path=Path(log_path),
                env=env,
                binds=tuple(Bind.from_wire(b) for b in binds or ()),
                scratch=Path(scratch) if scratch else None,
            )  # no cpus: Ray sizes the worker by its bundle, it pins nothing
            if self._where is not None and self._node_root is not None:
                worker = self._where.worker(worker)
                make_folders(worker, self._node_root)
            worker.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_path = worker.log_path
            fence = sandbox.Policy.from_wire(policy or {"enabled": False})
            sandbox.prepare(fence, worker)
            # Built from this node's allow-list: Ray's own variables here describe
            # this actor's process (its job id, its raylet), not the worker.
            started = sandbox.launch(fence, worker, self.state_dir, self.rank)
            with open(worker.log_path, "ab") as out:
                self._popen = subprocess.Popen(
                    started.command,
                    cwd=worker.cwd,
                    env=started.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._ref = ProcessRef(self._popen.pid, processes.create_time(self._popen.pid))
            self._sampler.track(
                "worker", [self._ref], cores, gpus, skip_roots=True, series=self._latest
            )
            if self._uploads is not None and self._staging is not None:
                threading.Thread(
                    target=self._upload_periodically,
                    args=(self._staging.sync_period_s,),
                    name=f"outputs-{self.rank}",
                    daemon=True,
                ).start()
            return self._ref.pid, self._ref.create_time

    def _upload_periodically(self, period_s: float) -> None:
        # Long runs publish what they have so far, as the server does for its own.
        said = ""
        while not self._ended.wait(period_s):
            problem = self._uploads.sync() if self._uploads is not None else ""
            if problem and problem != said and self._log_path is not None:
                _note(self._log_path, problem)
            said = problem

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
        self._publish_outputs()
        recorded = recorded_exit(self.state_dir, self.rank)
        if recorded is not None:
            return recorded
        return int(code) if code != 0 else UNRECORDED_EXIT

    def _publish_outputs(self) -> None:
        """Upload the outputs once the worker ended, before its exit is reported, so
        a client that sees the final status finds them (DECISIONS D18b)."""
        self._ended.set()
        with self._publish_lock:
            if self._published or self._uploads is None:
                return
            self._published = True
            problem = self._uploads.sync()
            self._upload_problem = problem
            if problem and self._log_path is not None:
                _note(self._log_path, problem)

    def upload_problem(self) -> str:
        """Why the outputs could not be uploaded once the worker ended ("" if they were):
        a run whose outputs were lost has failed, whatever its worker's exit."""
        with self._publish_lock:
            return self._upload_problem

    def log_chunk(self, offset: int, limit: int) -> bytes:
        """Up to ``limit`` bytes of the worker's log on this node from ``offset``;
        the run wrote the folder, so it is read without following a link."""
        if self._log_path is None or self._node_root is None:
            return b""
        try:
            fd = nofollow.open_beneath(self._node_root, self._log_path, os.O_RDONLY)
        except OSError:
            return b""
        with os.fdopen(fd, "rb") as f:
            f.seek(offset)
            return f.read(limit)

    def discard(self) -> None:
        """Remove this node's run folder once the run is over (its outputs uploaded,
        its log handed over); nothing on a node that shares the server's."""
        self._ended.set()
        if self._node_root is not None:
            shutil.rmtree(self._node_root, ignore_errors=True)

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


def _note(path: Path, message: str) -> None:
    with contextlib.suppress(OSError), open(path, "a") as f:
        f.write(f"[trainjobs] {message}\n")


def recorded_exit(state_dir: Path, rank: int) -> int | None:
    try:
        return int((state_dir / f"{rank}.exit").read_text().strip())
    except (OSError, ValueError):
        return None
