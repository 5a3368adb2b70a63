"""The Ray executor: each worker runs on a node of a Ray cluster, placed by Ray.

A run is one detached placement group with a bundle per worker, sized from the
spec (CPU, memory, GPU), and one detached actor per worker that holds its
bundle. Ray decides where the bundles go (``SPREAD``: one worker a node where
the cluster allows, as ``worker_server_num`` means servers, but several on one
node when it has room and the others do not). Each actor starts its worker on
its node as the local executor does: the same parent (``executors/worker.py``),
argv, environment, sandbox and log file. Where the worker's run folder is
depends on the storage:

- Shared storage (``--shared-storage``, ``TRAINJOBS_SHARED_STORAGE=1``): every
  node mounts the data dir at the same path, and the worker runs in the
  server's run folder (staged code, data, outputs, logs, the state folder) and
  writes its log there.
- No shared storage (the default): the actor builds a run folder of its node's
  own (under ``TRAINJOBS_NODE_RUN_ROOT`` as the node's ``ray start`` was given
  it, else the node's temp dir), stages the version's code snapshot and data
  input into it from the object store through the object endpoint, with the
  run's temporary key, and runs the worker there, its paths rewritten to that
  folder (``node_staging``). It uploads the worker's outputs to ``train_url``
  while it runs and before its exit is reported; the server pulls the worker's
  log from the actor as it grows into its own log file (``ray_logs``), and
  reads model metrics from ``train_url``. The node's folder is removed at the
  end.

Statuses, as the runner maps what Ray reports: a placement group Ray has not
placed (the resources are busy, or no node is big enough) is pending, shown
WAITING, with what the cluster has free noted in worker 0's log; once every
actor has started its worker, RUNNING; all exit 0, COMPLETED; any other exit,
FAILED (its peers are ended); a stop, KILLED, or CANCELED while still pending.
An actor Ray loses (its node died) without the worker's exit on record counts
as a worker killed by SIGKILL. Whatever way the run ends, its actors are killed
and its placement group removed, so the cluster gets its resources back.

The names of the placement group and actors, and the workers' specs, are kept
in the state folder, so a restarted server finds the detached actors again
(``adopt``), or resumes placing a run that was still pending.
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import socket
import threading
from pathlib import Path

from trainjobs.executors import ray_start, sandbox
from trainjobs.executors.base import RunSpec, WorkerResources
from trainjobs.executors.ray_placement import GIB
from trainjobs.executors.ray_record import STATE_FILE
from trainjobs.executors.ray_run import NAMESPACE, PLACEMENT_STRATEGY, RayRun

__all__ = [
    "GIB",
    "NAMESPACE",
    "PLACEMENT_STRATEGY",
    "RAY_MISSING",
    "STATE_FILE",
    "ExecutorRefused",
    "RayExecutor",
    "RayRun",
    "refusal",
    "unreachable",
]

CONNECT_TIMEOUT_S = 5.0

RAY_MISSING = "the Ray executor needs the ray package: pip install 'trainjobs[ray]'"


class ExecutorRefused(RuntimeError):
    """The executor cannot run with this configuration; the message says why."""


def refusal() -> str:
    """Why the Ray executor cannot start here; "" if it can."""
    if importlib.util.find_spec("ray") is None:
        return RAY_MISSING
    return ""


def unreachable(address: str) -> str:
    """Why no Ray cluster answers at ``address``; "" if something listens there.

    Ray's own connect retries for minutes before it gives up: a server that
    was given a wrong address should say so at once.
    """
    host, sep, port = address.rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return ""  # Ray's own forms ("auto", a cluster file): let Ray resolve them
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            return ""
    except OSError as exc:
        return f"no Ray cluster answers at {address}: {exc}"


class RayExecutor:
    """Runs versions on the Ray cluster at ``address`` (Ray's GCS address, or "auto")."""

    def __init__(
        self,
        address: str = "auto",
        *,
        shared_storage: bool = False,
        policy: sandbox.Policy | None = None,
    ) -> None:
        # Without a policy (tools and tests that build an executor directly)
        # workers are not sandboxed, but still get only the allowed environment.
        self.policy = policy or sandbox.Policy(enabled=False)
        self.shared_storage = shared_storage
        problem = refusal()
        if problem:
            raise ExecutorRefused(problem)
        import ray

        if not ray.is_initialized():
            problem = unreachable(address)
            if problem:
                raise ExecutorRefused(problem)
            # Ray's driver setup replaces the process's SIGTERM handler with an
            # exit; the server's own handler must keep it, to stop runs cleanly.
            previous = signal.getsignal(signal.SIGTERM)
            ray.init(
                address=address,
                namespace=NAMESPACE,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
            if threading.current_thread() is threading.main_thread() and previous is not None:
                signal.signal(signal.SIGTERM, previous)

    @property
    def stages_on_nodes(self) -> bool:
        """Whether each node builds a run folder of its own (no shared storage)."""
        return not self.shared_storage

    def capacity(self) -> WorkerResources:
        """The whole cluster's CPUs, memory and GPUs now, in a spec's units."""
        import ray

        total = ray.cluster_resources()
        return WorkerResources(
            cores=int(total.get("CPU", 0)),
            memory_gib=round(float(total.get("memory", 0)) / GIB, 2),
            gpus=int(total.get("GPU", 0)),
        )

    def start(self, spec: RunSpec) -> RayRun:
        return ray_start.create(spec, self.policy)

    def adopt(self, state_dir: Path, workers: int) -> RayRun | None:
        return ray_start.find(state_dir)
