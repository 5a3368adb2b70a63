"""Where Ray places a run's workers: the bundle each asks for, what the log says
while they wait, and their environments once Ray chose their nodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainjobs.executors.base import WorkerResources, WorkerSpec

GIB = 1024**3
# Set by the runner from its own (local) admission; Ray assigns the actor its
# GPUs and sets this variable itself, and the worker must see Ray's choice.
RAY_OWNED_ENV = ("CUDA_VISIBLE_DEVICES",)


def bundle_of(resources: WorkerResources) -> dict[str, float]:
    bundle = {"CPU": float(max(1, resources.cores))}
    if resources.memory_gib > 0:
        bundle["memory"] = float(int(resources.memory_gib * GIB))
    if resources.gpus > 0:
        bundle["GPU"] = float(resources.gpus)
    return bundle


def describe(bundle: dict[str, float]) -> str:
    parts = [f"{bundle['CPU']:g} CPU"]
    if "memory" in bundle:
        parts.append(f"{bundle['memory'] / GIB:g} GiB")
    if "GPU" in bundle:
        parts.append(f"{bundle['GPU']:g} GPU")
    return ", ".join(parts)


def waiting_message(workers: int, bundle: dict[str, float]) -> str:
    import ray

    free = ray.available_resources()
    shown = {k: v for k, v in free.items() if k in ("CPU", "GPU", "memory")}
    if "memory" in shown:
        shown["memory"] = round(shown["memory"] / GIB, 2)
    return (
        f"waiting for Ray to place {workers} worker(s) of "
        f"{describe(bundle)}; free in the cluster now: {shown} (memory in GiB)"
    )


def placed_envs(specs: Sequence[WorkerSpec], places: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The workers' environments with the rendezvous on the nodes Ray chose.

    The runner names this machine as the rendezvous; on Ray that is rank 0's
    node, with a port free there.
    """
    master = places[0]
    hosts = ",".join(str(p["ip"]) for p in places)
    envs = []
    for spec in specs:
        env = {k: v for k, v in spec.env.items() if k not in RAY_OWNED_ENV}
        if "MASTER_ADDR" in env:
            env["MASTER_ADDR"] = str(master["ip"])
        if "MASTER_PORT" in env:
            env["MASTER_PORT"] = str(master["port"])
        if "VC_WORKER_HOSTS" in env:
            env["VC_WORKER_HOSTS"] = hosts
        envs.append(env)
    return envs
