"""The local executor: each worker is a process on this machine.

Every worker runs under a small parent (``executors/worker.py``) that records
its pid and exit code in the run's state folder, so a restarted server can
adopt workers it did not start. An ended worker is noticed the moment its
parent exits, through a pidfd (``executors/exits.py``), started or adopted.
One parent is kept started ahead of need (``Standby``): a version's start then
costs a pipe write instead of an interpreter's start-up. A run is prepared
before its code is staged: each worker's parent takes its order and builds the
worker's sandbox, which holds until ``begin`` gives the go.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trainjobs import nofollow
from trainjobs.executors import exits, processes, sandbox
from trainjobs.executors.base import ProcessRef, RunOutcome, RunSpec, WorkerExit

PEER_GRACE_S = 2.0  # after one worker fails, how long the others get to end
REFILL_WAIT_S = 1.0  # how long a start waits for a standby parent on its way
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
            # The run can write here too: read no link, wait on no FIFO.
            return int(nofollow.read_bytes(self.state_dir.parent, self.exit_file).strip())
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


class Standby:
    """One recording parent, started ahead of need and waiting for its order.

    The next one is started in the background (``refill``) once the run that
    took the last one settled: it ended, or ran a while. Started at once, its
    interpreter's start-up would compete for the CPU with the run's own. A run
    that starts while one is on its way waits for it; one that finds none
    (the first after a server start, or runs starting side by side) starts one
    on the spot. Each is in a session of its own from the start, so a stop
    reaches its whole tree, and the server's own signals do not.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._idle = threading.Event()  # clear while a refill is on its way
        self._idle.set()

    def take(self) -> subprocess.Popen[bytes]:
        # One on its way is ready sooner than another started now.
        self._idle.wait(REFILL_WAIT_S)
        with self._lock:
            ready, self._ready = self._ready, None
        if ready is None or ready.poll() is not None:
            ready = self._start()
        return ready

    def refill(self) -> None:
        """Start the next parent in the background, unless one is ready or on its way."""
        with self._lock:
            if self._ready is not None or self._closed or not self._idle.is_set():
                return
            self._idle.clear()
        threading.Thread(target=self._refill, name="standby-parent", daemon=True).start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            sandbox.standby_command(),
            cwd="/",
            env={"PATH": os.environ.get("PATH", os.defpath)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,  # a byte when it took its order; then the log
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _refill(self) -> None:
        try:
            spare: subprocess.Popen[bytes] | None = self._start()
            with self._lock:
                if self._ready is None and not self._closed:
                    self._ready, spare = spare, None
            if spare is not None:
                _dismiss(spare)
        finally:
            self._idle.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, None
        if ready is not None:
            _dismiss(ready)


def _dismiss(parent: subprocess.Popen[bytes]) -> None:
    """End a parent that got no go: its stdin closes, and it ends the sandbox it
    holds, if any, unstarted, and exits."""
    for pipe in (parent.stdin, parent.stdout):
        with contextlib.suppress(OSError):
            if pipe is not None:
                pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        parent.wait(timeout=5)


def _give_order(parent: subprocess.Popen[bytes], order: dict[str, object]) -> None:
    """Hand a waiting parent its order; it says it took it (``_taken``) once its
    sandbox is on its way. Its stdin stays open for the go."""
    assert parent.stdin is not None
    parent.stdin.write(json.dumps(order).encode() + b"\n")
    parent.stdin.flush()


def _taken(parent: subprocess.Popen[bytes]) -> bool:
    """Whether the parent took its order (one killed while it waited would have
    left it unread in its pipe)."""
    assert parent.stdout is not None
    try:
        return parent.stdout.read(1) == b"1"
    except OSError:
        return False
    finally:
        parent.stdout.close()


def _end(parent: subprocess.Popen[bytes]) -> None:
    _dismiss(parent)
    with contextlib.suppress(OSError):
        parent.kill()
    parent.wait()


def _give_go(parent: subprocess.Popen[bytes]) -> None:
    """Start the worker its parent holds. A parent that ended meanwhile (its
    worker could not start) recorded why; the run's wait reads it."""
    assert parent.stdin is not None
    with contextlib.suppress(OSError):
        parent.stdin.write(b"g")
    with contextlib.suppress(OSError):
        parent.stdin.close()


class LocalRun:
    def __init__(self, workers: list[_Worker]) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._stopped = False

    @classmethod
    def prepare(cls, spec: RunSpec, policy: sandbox.Policy, standby: Standby) -> PreparedLocalRun:
        """Every worker's parent holding its order, its sandbox built; nothing started."""
        with contextlib.suppress(FileNotFoundError):  # each parent makes it, if need be
            for stale in spec.state_dir.iterdir():
                stale.unlink()
        run = cls([])
        orders = []
        try:
            for rank, worker in enumerate(spec.workers):
                worker.log_path.parent.mkdir(parents=True, exist_ok=True)
                started = sandbox.launch(policy, worker, spec.state_dir, rank, gated=True)
                orders.append(started.order(spec.state_dir, rank, worker.cwd, worker.log_path))
                run._workers.append(_Worker(rank, spec.state_dir, *_ordered(standby, orders[-1])))
        except BaseException:
            run.discard()
            standby.refill()
            raise
        return PreparedLocalRun(run, spec, policy, standby, orders)

    def discard(self) -> None:
        """End prepared workers unstarted: each parent ends its held sandbox and exits."""
        for w in self._workers:
            if w.popen is not None:
                _end(w.popen)

    @classmethod
    def adopt(cls, state_dir: Path, count: int) -> LocalRun | None:
        workers = []
        for rank in range(count):
            ref = None
            with contextlib.suppress(OSError, ValueError, KeyError):
                raw = json.loads(nofollow.read_bytes(state_dir.parent, state_dir / f"{rank}.pid"))
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


def _ordered(
    standby: Standby, order: dict[str, object]
) -> tuple[subprocess.Popen[bytes], ProcessRef]:
    """A waiting parent that has ``order``. One found dead (killed from outside
    while it waited) is passed over for a fresh one."""
    popen = standby.take()
    try:
        _give_order(popen, order)
    except OSError:
        _end(popen)
        popen = standby.take()
        _give_order(popen, order)
    return popen, ProcessRef(popen.pid, processes.create_time(popen.pid))


class PreparedLocalRun:
    """A run whose workers wait, in their built sandboxes, for ``begin``."""

    def __init__(
        self,
        run: LocalRun,
        spec: RunSpec,
        policy: sandbox.Policy,
        standby: Standby,
        orders: list[dict[str, object]],
    ) -> None:
        self._run = run
        self._spec = spec
        self._policy = policy
        self._standby = standby
        self._orders = orders

    @property
    def processes(self) -> Sequence[ProcessRef]:
        """The workers' parents, holding their sandboxes."""
        return self._run.processes

    def begin(self) -> LocalRun:
        for w, order in zip(self._run._workers, self._orders, strict=True):
            assert w.popen is not None
            if not _taken(w.popen):  # it died with the order: another takes it, unprepared
                _end(w.popen)
                w.popen, w.ref = _ordered(self._standby, order)
                if not _taken(w.popen):
                    raise OSError(f"the worker's parent (pid {w.popen.pid}) ended at once")
        for worker in self._spec.workers:
            sandbox.hand_over(self._policy, worker)  # with what was staged meanwhile
        for w in self._run._workers:
            assert w.popen is not None
            _give_go(w.popen)
        return self._run

    def discard(self) -> None:
        self._run.discard()
        self._standby.refill()


class LocalExecutor:
    def __init__(self, policy: sandbox.Policy | None = None) -> None:
        # Without a policy (tools and tests that build an executor directly)
        # workers are not sandboxed, but still get only the allowed environment.
        self.policy = policy or sandbox.Policy(enabled=False)
        self.standby = Standby()

    def prepare(self, spec: RunSpec) -> PreparedLocalRun:
        return LocalRun.prepare(spec, self.policy, self.standby)

    def ready_next(self) -> None:
        self.standby.refill()

    def start(self, spec: RunSpec) -> LocalRun:
        return self.prepare(spec).begin()

    def adopt(self, state_dir: Path, workers: int) -> LocalRun | None:
        return LocalRun.adopt(state_dir, workers)

    def close(self) -> None:
        self.standby.close()
