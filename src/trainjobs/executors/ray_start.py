"""A run's way onto Ray: its record and placement group at the start (``create``),
and what a restarted server finds of it again (``find``)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

from trainjobs.executors import sandbox
from trainjobs.executors.base import ProcessRef, RunSpec
from trainjobs.executors.ray_actor import recorded_exit
from trainjobs.executors.ray_placement import bundle_of, describe
from trainjobs.executors.ray_record import RunRecord, note
from trainjobs.executors.ray_run import (
    ACTOR_CALL_TIMEOUT_S,
    NAMESPACE,
    PLACEMENT_STRATEGY,
    RayRun,
)


def create(spec: RunSpec, policy: sandbox.Policy) -> RayRun:
    """Record the run, ask Ray for its placement group and start placing it."""
    import ray

    spec.state_dir.mkdir(parents=True, exist_ok=True)
    for stale in spec.state_dir.iterdir():
        if stale.is_file():
            stale.unlink()
    token = uuid.uuid4().hex[:8]
    group_name = f"trainjobs-{spec.run_id}-{token}"
    bundle = bundle_of(spec.resources)
    record = RunRecord(
        run_id=spec.run_id,
        group=group_name,
        actors=[f"{group_name}-{rank}" for rank in range(len(spec.workers))],
        workers=[
            {
                "argv": list(w.argv),
                "cwd": str(w.cwd),
                "log_path": str(w.log_path),
                "env": dict(w.env),
                "binds": [b.wire() for b in w.binds],
                "scratch": str(w.scratch) if w.scratch else "",
            }
            for w in spec.workers
        ],
        resources=bundle,
        policy=policy.wire(),
        staging=spec.node_staging.wire() if spec.node_staging else {},
    )
    # Recorded before anything exists on the cluster: a server that dies
    # from here on leaves a trail that leads to what it created.
    record.save(spec.state_dir)
    for w in spec.workers:
        w.log_path.parent.mkdir(parents=True, exist_ok=True)
    group = ray.util.placement_group(
        [dict(bundle) for _ in spec.workers],
        strategy=PLACEMENT_STRATEGY,
        name=group_name,
        lifetime="detached",
    )
    run = RayRun(record, spec.state_dir, group)
    where = "each in a run folder of its node's own" if spec.node_staging else "shared storage"
    note(
        spec.workers[0].log_path,
        f"asked Ray to place {len(spec.workers)} worker(s) of {describe(bundle)} each "
        f"(placement group {group_name}, {PLACEMENT_STRATEGY}; {where})",
    )
    run.start_launcher()
    return run


def find(state_dir: Path) -> RayRun | None:
    """The run a previous server started from ``state_dir``: its detached actors,
    or its placement group still to be placed, or the exits it left on record."""
    import ray

    record = RunRecord.load(state_dir)
    if record is None:
        return None
    group = None
    with contextlib.suppress(ValueError):
        group = ray.util.get_placement_group(record.group)
    actors: dict[int, Any] = {}
    for rank, name in enumerate(record.actors):
        with contextlib.suppress(ValueError):
            actors[rank] = ray.get_actor(name, namespace=NAMESPACE)
    recorded = any(recorded_exit(state_dir, rank) is not None for rank in range(len(record.actors)))
    if group is None and not actors and not recorded:
        return None
    run = RayRun(record, state_dir, group, actors)
    if not actors and group is not None and not recorded:
        run.start_launcher()  # still pending when the server went: go on placing it
        return run
    refs: dict[int, ProcessRef] = {}
    started = {rank: a.launched.remote() for rank, a in actors.items()}
    for rank, query in started.items():
        try:
            got = ray.get(query, timeout=ACTOR_CALL_TIMEOUT_S)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            got = None
        if got is not None:
            refs[rank] = ProcessRef(int(got[0]), float(got[1]))
    nodes: dict[int, str] = {}
    queries = {rank: a.where.remote() for rank, a in actors.items() if rank in refs}
    for rank, query in queries.items():
        with contextlib.suppress(ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            nodes[rank] = ray.get(query, timeout=ACTOR_CALL_TIMEOUT_S)["node_id"]
    run.resume(refs, nodes)
    return run
