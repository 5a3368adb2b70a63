"""One run on Ray once it is recorded (``ray_start``): the actor of each worker
placed and started, their exits, samples and stop, and what the cluster gets
back at the end."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainjobs.executors.base import ProcessRef, RunOutcome, WorkerExit
from trainjobs.executors.ray_actor import UNRECORDED_EXIT, WorkerActor, recorded_exit
from trainjobs.executors.ray_logs import LogRelay
from trainjobs.executors.ray_placement import placed_envs, waiting_message
from trainjobs.executors.ray_record import RunRecord, note
from trainjobs.executors.sampler import SERIES

log = logging.getLogger(__name__)

NAMESPACE = "trainjobs"
PLACEMENT_STRATEGY = "SPREAD"
WAIT_POLL_S = 0.2
PEER_GRACE_S = 2.0  # after one worker fails, how long the others get to end
ACTOR_START_TIMEOUT_S = 120.0  # a new Ray worker process imports Ray: seconds, not ms
ACTOR_CALL_TIMEOUT_S = 30.0
# Staging on a node without the shared run folder downloads the code and data:
# as long as the object store takes, not an actor call's usual seconds.
STAGE_TIMEOUT_S = 3600.0
DISCARD_TIMEOUT_S = 30.0
UPLOAD_PROBLEM_TIMEOUT_S = 30.0
ACTOR_THREADS = 8
SAMPLE_TIMEOUT_S = 1.0
LAUNCH_FAILED_EXIT = 127


class RayRun:
    """A run on Ray: pending until its placement group is placed, then its workers' actors."""

    def __init__(
        self,
        record: RunRecord,
        state_dir: Path,
        group: Any,
        actors: dict[int, Any] | None = None,
    ) -> None:
        self._record = record
        self._state_dir = state_dir
        self._specs = record.worker_specs()
        self._bundle = dict(record.resources)
        self._group = group
        self._actors: dict[int, Any] = dict(actors or {})
        self._refs: dict[int, ProcessRef] = {}
        self._nodes: dict[int, str] = {}
        self._exit_queries: dict[int, Any] = {}
        self._codes: dict[int, int] = {}
        self._lock = threading.Lock()
        self._launched = threading.Event()  # every worker started, or the launch gave up
        self._stopping = threading.Event()
        self._stopped = False
        self._cleaned = False
        self._launcher: threading.Thread | None = None
        # Whether workers may have started: before that, a rank without an
        # exit is one that never ran, not one that was lost.
        self._past_placement = bool(actors)
        # Nodes without the server's run folders: logs come to it through Ray.
        self._relay: LogRelay | None = None
        if record.staging:
            self._relay = LogRelay(
                state_dir, [w.log_path for w in self._specs], self._started_actors
            )

    def _started_actors(self) -> dict[int, Any]:
        with self._lock:
            return {r: a for r, a in self._actors.items() if r in self._refs}

    # -- starting --------------------------------------------------------------

    def start_launcher(self) -> None:
        """Wait for Ray to place the run, then start its workers, in a thread of its own."""
        self._launcher = threading.Thread(
            target=self._launch, name=f"ray-launch-{self._record.run_id}", daemon=True
        )
        self._launcher.start()

    def _launch(self) -> None:
        """Wait for Ray to place the bundles, then start one actor and worker per bundle."""
        import ray

        try:
            ready = self._group.ready()
            waited_note = False
            started = time.monotonic()
            while not ray.wait([ready], timeout=WAIT_POLL_S)[0]:
                if self._stopping.is_set():
                    return
                if not waited_note and time.monotonic() - started > 1.0:
                    waited_note = True
                    note(self._specs[0].log_path, waiting_message(len(self._specs), self._bundle))
            if self._stopping.is_set():
                return
            self._start_actors()
        except Exception as exc:  # noqa: BLE001 - any Ray failure ends the launch, said in the log
            if not self._stopping.is_set():
                log.warning("run %s: launch on Ray failed: %s", self._record.run_id, exc)
                note(self._specs[0].log_path, f"Ray could not start the workers: {exc}")
                with self._lock:
                    for rank in range(len(self._specs)):
                        self._codes.setdefault(rank, LAUNCH_FAILED_EXIT)
        finally:
            self._launched.set()

    def _start_actors(self) -> None:
        import ray

        remote = ray.remote(WorkerActor)
        self._past_placement = True
        cores = int(self._bundle["CPU"])
        gpus = int(self._bundle.get("GPU", 0))
        for rank, name in enumerate(self._record.actors):
            with self._lock:
                if self._stopping.is_set():
                    return
                if rank in self._actors:
                    continue
                self._actors[rank] = remote.options(  # type: ignore[attr-defined]
                    name=name,
                    namespace=NAMESPACE,
                    lifetime="detached",
                    max_restarts=0,
                    max_concurrency=ACTOR_THREADS,
                    num_cpus=self._bundle["CPU"],
                    num_gpus=self._bundle.get("GPU", 0),
                    memory=self._bundle.get("memory"),
                    scheduling_strategy=ray.util.scheduling_strategies.PlacementGroupSchedulingStrategy(
                        self._group, placement_group_bundle_index=rank
                    ),
                ).remote(str(self._state_dir), rank, self._record.staging, self._record.group)
        actors = [self._actors[r] for r in range(len(self._specs))]
        places = ray.get([a.where.remote() for a in actors], timeout=ACTOR_START_TIMEOUT_S)
        envs = placed_envs(self._specs, places)
        for rank, place in enumerate(places):
            note(
                self._specs[rank].log_path,
                f"Ray placed worker {rank} on node {place['ip']} "
                f"(node id {place['node_id'][:12]}, bundle {rank})",
            )
        if self._record.staging:
            self._stage(actors, envs)
        launches = [
            a.launch.remote(
                list(spec.argv),
                str(spec.cwd),
                env,
                str(spec.log_path),
                cores,
                gpus,
                [b.wire() for b in spec.binds],
                str(spec.scratch) if spec.scratch else "",
                self._record.policy,
            )
            for a, spec, env in zip(actors, self._specs, envs, strict=True)
        ]
        started = ray.get(launches, timeout=ACTOR_CALL_TIMEOUT_S)
        with self._lock:
            for rank, (got, place) in enumerate(zip(started, places, strict=True)):
                self._nodes[rank] = place["node_id"]
                if got is not None:
                    self._refs[rank] = ProcessRef(int(got[0]), float(got[1]))
        if self._relay is not None:
            self._relay.start()

    def _stage(self, actors: list[Any], envs: list[dict[str, str]]) -> None:
        """Each node fills its own run folder from the object store; any failure
        ends the launch, its reason in the log."""
        import ray

        calls = [
            a.stage.remote(env, str(spec.log_path))
            for a, spec, env in zip(actors, self._specs, envs, strict=True)
        ]
        problems = ray.get(calls, timeout=STAGE_TIMEOUT_S)
        failed = [f"worker {rank}: {p}" for rank, p in enumerate(problems) if p]
        if failed:
            raise RuntimeError("; ".join(failed))

    def resume(self, refs: dict[int, ProcessRef], nodes: dict[int, str]) -> None:
        """Follow workers a previous server started (``ray_start.find``)."""
        with self._lock:
            self._past_placement = True
            self._refs.update(refs)
            self._nodes.update(nodes)
        if self._relay is not None:
            self._relay.start()
        self._launched.set()

    # -- the handle --------------------------------------------------------------

    def placed(self, timeout: float) -> bool:
        """Whether Ray placed every worker and each was started (or the launch gave up)."""
        return self._launched.wait(timeout)

    @property
    def processes(self) -> Sequence[ProcessRef]:
        """The worker parents that run on this machine's node: the only pids that
        mean anything here. ``sample()`` measures all of them, wherever they run."""
        import ray

        here = ray.get_runtime_context().get_node_id()
        with self._lock:
            return [ref for rank, ref in self._refs.items() if self._nodes.get(rank) == here]

    def sample(self) -> dict[str, float] | None:
        """The run's load now, measured by each worker's actor on its node; None
        when no worker could be measured. Keys and units are the sampler's."""
        import ray

        with self._lock:
            actors = {r: a for r, a in self._actors.items() if r in self._refs}
            nodes = dict(self._nodes)
        if not actors:
            return None
        queries = {r: a.measure.remote() for r, a in actors.items()}
        ready, _ = ray.wait(list(queries.values()), num_returns=len(queries), timeout=0)
        if len(ready) < len(queries):
            ready, _ = ray.wait(
                list(queries.values()), num_returns=len(queries), timeout=SAMPLE_TIMEOUT_S
            )
        samples: dict[int, dict[str, float]] = {}
        for rank, query in queries.items():
            if query in ready:
                with contextlib.suppress(ray.exceptions.RayError):
                    got = ray.get(query)
                    if got:
                        samples[rank] = got
        if not samples:
            return None
        combined = {k: sum(s.get(k, 0.0) for s in samples.values()) for k in SERIES}
        combined["cpuUsage"] = min(100.0, combined["cpuUsage"])
        # Network counters are the node's, not the worker's: count each node once.
        per_node = {nodes.get(r, str(r)): s for r, s in samples.items()}
        for key in ("recvBytesRate", "sendBytesRate"):
            combined[key] = sum(s.get(key, 0.0) for s in per_node.values())
        return combined

    def wait(self, timeout: float | None = None) -> RunOutcome | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = WAIT_POLL_S if left is None else min(left, WAIT_POLL_S)
            if not self._launched.wait(step):
                if left is not None and left <= 0:
                    return None
                continue
            with self._lock:
                never_placed = self._stopping.is_set() and not self._actors and not self._codes
            if never_placed:  # stopped while Ray had not placed it: no worker ever ran
                self._cleanup()
                return RunOutcome(exits=[], stopped=self._stopped)
            self._poll_exits(step)
            with self._lock:
                codes = dict(self._codes)
            if len(codes) == len(self._specs):
                problem = self._upload_problems()
                self._cleanup()
                exits = [WorkerExit(rank, codes[rank]) for rank in range(len(self._specs))]
                return RunOutcome(exits=exits, stopped=self._stopped, problem=problem)
            if any(c != 0 for c in codes.values()):
                # One failed worker fails the run: the others would wait on it forever.
                self._end_workers(PEER_GRACE_S)
                continue
            if left is not None and left <= 0:
                return None

    def _upload_problems(self) -> str:
        """What the workers' nodes could not upload once they ended, in one line."""
        import ray

        queries = [actor.upload_problem.remote() for actor in self._started_actors().values()]
        try:
            problems = ray.get(queries, timeout=UPLOAD_PROBLEM_TIMEOUT_S)
        except Exception:  # a node lost since: its worker's exit already says so
            return ""
        return "; ".join(p for p in problems if p)

    def _poll_exits(self, timeout: float) -> None:
        """Collect the exits that are in, waiting up to ``timeout`` for the rest."""
        import ray

        with self._lock:
            if not self._past_placement:
                return
            for rank, actor in self._actors.items():
                if rank in self._codes or rank in self._exit_queries:
                    continue
                if rank not in self._refs:  # the actor never started its worker
                    self._codes[rank] = self._exit_without_actor(rank, "it never started")
                    continue
                self._exit_queries[rank] = actor.exit_code.remote()
            for rank in range(len(self._specs)):
                if rank not in self._actors and rank not in self._codes:
                    self._codes[rank] = self._exit_without_actor(rank, "its actor is gone")
            queries = dict(self._exit_queries)
        if not queries:
            return
        # The first exit is enough to act on (a failed worker ends its peers).
        ready, _ = ray.wait(list(queries.values()), num_returns=1, timeout=timeout)
        with self._lock:
            for rank, query in queries.items():
                # wait() and stop() both poll: whoever comes first takes the answer
                taken = query in ready and id(self._exit_queries.get(rank)) == id(query)
                if not taken:
                    continue
                del self._exit_queries[rank]
                try:
                    code = ray.get(query)
                except ray.exceptions.RayError as exc:
                    code = self._exit_without_actor(
                        rank, f"Ray lost its actor ({type(exc).__name__})"
                    )
                if code is not None:
                    self._codes[rank] = int(code)

    def _exit_without_actor(self, rank: int, why: str) -> int:
        recorded = recorded_exit(self._state_dir, rank)
        if recorded is not None:
            return recorded
        if not self._stopping.is_set():
            note(self._specs[rank].log_path, f"worker {rank} has no recorded exit: {why}")
        return UNRECORDED_EXIT

    def stop(self, grace_s: float) -> None:
        with self._lock:
            if len(self._codes) < len(self._specs):
                self._stopped = True
            self._stopping.set()
        if self._launcher is not None:
            self._launcher.join(timeout=ACTOR_START_TIMEOUT_S)
        self._end_workers(grace_s)
        # Give the exit queries a moment to answer before their actors go.
        with contextlib.suppress(Exception):
            self._poll_exits(timeout=2.0)
        self._cleanup()

    def _end_workers(self, grace_s: float) -> None:
        import ray

        with self._lock:
            live = [a for r, a in self._actors.items() if r not in self._codes]
        if not live:
            return
        calls = [a.stop.remote(grace_s) for a in live]
        with contextlib.suppress(ray.exceptions.RayError):
            ray.wait(calls, num_returns=len(calls), timeout=grace_s + ACTOR_CALL_TIMEOUT_S)

    def _cleanup(self) -> None:
        """Give the cluster back what the run held: its actors and its placement group."""
        import ray

        with self._lock:
            if self._cleaned:
                return
            self._cleaned = True
            actors = list(self._actors.values())
        if self._relay is not None:
            self._relay.finish()
            with contextlib.suppress(Exception):
                ray.wait(
                    [a.discard.remote() for a in actors],
                    num_returns=len(actors),
                    timeout=DISCARD_TIMEOUT_S,
                )
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
        if self._group is not None:
            with contextlib.suppress(Exception):
                ray.util.remove_placement_group(self._group)
