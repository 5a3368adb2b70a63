"""The executor protocol: start a run's workers, wait for them, stop them."""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Bind:
    """A folder a sandboxed worker sees: ``source`` on the host at ``dest`` inside."""

    source: Path
    dest: Path
    read_only: bool = False
    own: bool = False  # the run's own folder: handed to the user the worker runs as

    def wire(self) -> dict[str, object]:
        return {
            "source": str(self.source),
            "dest": str(self.dest),
            "read_only": self.read_only,
            "own": self.own,
        }

    @classmethod
    def from_wire(cls, raw: Mapping[str, object]) -> Bind:
        return cls(
            Path(str(raw["source"])),
            Path(str(raw["dest"])),
            bool(raw.get("read_only")),
            bool(raw.get("own")),
        )


@dataclass(frozen=True)
class WorkerSpec:
    argv: Sequence[str]
    cwd: Path
    log_path: Path
    # The run contract's variables; the executor adds an allow-list of the
    # server's own (PATH, locale, ...), never the whole of it.
    env: Mapping[str, str] = field(default_factory=dict)
    cpus: tuple[int, ...] = ()  # CPU ids to pin the worker to; () leaves it free
    # What of the run a sandboxed worker sees (its folders, its volumes), and
    # the folder behind its private /cache and /tmp.
    binds: tuple[Bind, ...] = ()
    scratch: Path | None = None


@dataclass(frozen=True)
class WorkerResources:
    """What each worker asks for, from the version's spec. An executor that
    places workers on a cluster (Ray) reserves it; the local one needs none."""

    cores: int = 1
    memory_gib: float = 0.0  # 0: reserve no memory
    gpus: int = 0


@dataclass(frozen=True)
class Transfer:
    """A folder of the run and its place in the run's project's object store."""

    url: str  # a D6 path, "/bucket/key"
    local: Path  # under the run folder, as the server names it

    def wire(self) -> dict[str, str]:
        return {"url": self.url, "local": str(self.local)}

    @classmethod
    def from_wire(cls, raw: Mapping[str, object]) -> Transfer:
        return cls(str(raw["url"]), Path(str(raw["local"])))


@dataclass(frozen=True)
class NodeStaging:
    """How a node that does not mount the server's run folder rebuilds it.

    The worker's paths (argv, environment, binds) name the server's run folder,
    ``root``; such a node puts a folder of its own in its place, fills it from
    the object store (``inputs``) through the object endpoint, with the run's
    key from the workers' environment, and uploads ``outputs`` back while the
    run goes (every ``sync_period_s``) and once more when it ends.
    """

    root: Path
    inputs: tuple[Transfer, ...] = ()
    outputs: tuple[Transfer, ...] = ()
    sync_period_s: float = 60.0

    def wire(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "inputs": [t.wire() for t in self.inputs],
            "outputs": [t.wire() for t in self.outputs],
            "sync_period_s": self.sync_period_s,
        }

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> NodeStaging:
        return cls(
            Path(str(raw["root"])),
            tuple(Transfer.from_wire(t) for t in raw.get("inputs", ())),
            tuple(Transfer.from_wire(t) for t in raw.get("outputs", ())),
            float(raw.get("sync_period_s", 60.0)),
        )


@dataclass(frozen=True)
class RunSpec:
    run_id: str
    workers: Sequence[WorkerSpec]
    # Where the executor keeps what it needs to find the run again after a
    # server restart (pids, exit codes).
    state_dir: Path
    resources: WorkerResources = field(default_factory=WorkerResources)
    # Set for an executor whose nodes do not share the server's run folders.
    node_staging: NodeStaging | None = None


@dataclass(frozen=True)
class WorkerExit:
    rank: int
    returncode: int  # negative: killed by that signal, as subprocess reports it

    def describe(self) -> str:
        if self.returncode >= 0:
            return f"worker {self.rank} exited with code {self.returncode}"
        try:
            name = signal.Signals(-self.returncode).name
        except ValueError:
            name = f"signal {-self.returncode}"
        hint = ""
        if self.returncode == -signal.SIGKILL:
            hint = " (the kernel's out-of-memory killer sends it when memory runs out)"
        return f"worker {self.rank} was killed by {name}{hint}"


@dataclass(frozen=True)
class RunOutcome:
    exits: Sequence[WorkerExit]
    stopped: bool  # a stop request found the run alive and ended it
    # What failed around the workers (their outputs could not be uploaded from a node).
    problem: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.stopped and not self.problem and all(e.returncode == 0 for e in self.exits)

    @property
    def reason(self) -> str:
        """Why the run did not succeed, in words a user can act on; "" if it did."""
        if self.stopped:
            return "stopped on request"
        failed = [e.describe() for e in self.exits if e.returncode != 0]
        return "; ".join([*failed, self.problem] if self.problem else failed)


@dataclass(frozen=True)
class ProcessRef:
    """A process as the operating system knows it; the start time tells a
    reused pid from the original."""

    pid: int
    create_time: float


class RunHandle(Protocol):
    @property
    def processes(self) -> Sequence[ProcessRef]: ...

    def wait(self, timeout: float | None = None) -> RunOutcome | None:
        """The outcome once every worker has ended; None if ``timeout`` passed first."""
        ...

    def stop(self, grace_s: float) -> None:
        """End every worker's whole process tree: SIGTERM, then SIGKILL after ``grace_s``."""
        ...


@runtime_checkable
class WaitsForPlacement(Protocol):
    """A handle whose workers may wait for a cluster to place them (Ray): the
    runner shows the version WAITING until ``placed`` is true."""

    def placed(self, timeout: float) -> bool:
        """Whether every worker was placed and started (or the start gave up,
        which ``wait`` then reports); waits up to ``timeout`` seconds for it."""
        ...


@runtime_checkable
class SamplesRemotely(Protocol):
    """A handle whose workers may run on other machines, measured where they run."""

    def sample(self) -> dict[str, float] | None:
        """The run's load now, in the sampler's series keys and units; None when
        no worker could be measured."""
        ...


@runtime_checkable
class StagesOnNodes(Protocol):
    """An executor whose workers may run where the server's run folders are not
    mounted (Ray without shared storage): each node stages the run from the
    object store, uploads its outputs there and hands its log to the server."""

    @property
    def stages_on_nodes(self) -> bool: ...


class PreparedRun(Protocol):
    """A run whose workers are set up and held, not yet started."""

    def begin(self) -> RunHandle:
        """Start the held workers."""
        ...

    def discard(self) -> None:
        """End the held workers unstarted."""
        ...


@runtime_checkable
class PreparesRuns(Protocol):
    """An executor that sets a run's workers up (their sandboxes built) while the
    run's code is staged, and starts them when it is: the set-up is then not on
    the way from submit to the run."""

    def prepare(self, spec: RunSpec) -> PreparedRun: ...


@runtime_checkable
class ReadiesAhead(Protocol):
    """An executor that keeps something made ahead of the next run (a process
    waiting for its order), and is told when to make it again: once the run
    that took it has settled, so that making it does not compete with that
    run's start."""

    def ready_next(self) -> None:
        """Make what the next run takes, in the background, unless it is there."""
        ...


class Executor(Protocol):
    def start(self, spec: RunSpec) -> RunHandle: ...

    def adopt(self, state_dir: Path, workers: int) -> RunHandle | None:
        """The run a previous server started from ``state_dir``, if anything of it
        is left (live workers or recorded exits); None if it is gone without a trace."""
        ...
