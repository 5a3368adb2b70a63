"""A run folder of a node's own, for a node that does not mount the server's.

The server stages a run in its run folder and describes it to the executor in
``NodeStaging``: the folder's path on the server, what fills it from the
object store, and what goes back. A worker placed on another node runs in a
folder of that node (under ``TRAINJOBS_NODE_RUN_ROOT``, read on the node),
its paths rewritten from the server's folder to the node's, filled through the
object endpoint with the run's own key, and its outputs uploaded the same way.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from trainjobs.executors.base import NodeStaging, WorkerSpec
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath

NODE_RUN_ROOT_ENV = "TRAINJOBS_NODE_RUN_ROOT"
NODE_RUN_ROOT_DEFAULT = "trainjobs-node-runs"  # under the node's temporary folder


class StagingFailed(Exception):
    """The node could not fill its run folder; the message says what was missing."""


def node_run_root() -> Path:
    """Where this node keeps its run folders: ``TRAINJOBS_NODE_RUN_ROOT`` as the
    node's ``ray start`` was given it, else a folder in the node's temp dir."""
    configured = os.environ.get(NODE_RUN_ROOT_ENV, "")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / NODE_RUN_ROOT_DEFAULT


class Relocation:
    """Rewrites paths in the server's run folder to the same paths in the node's."""

    def __init__(self, server_root: Path, node_root: Path) -> None:
        self.server_root = str(server_root).rstrip("/")
        self.node_root = str(node_root).rstrip("/")

    def text(self, value: str) -> str:
        """A value that may name the run folder anywhere in it (``--train_url=...``,
        ``PYTHONPATH``): every occurrence followed by a separator or the end."""
        if value == self.server_root:
            return self.node_root
        value = value.replace(self.server_root + "/", self.node_root + "/")
        for sep in (os.pathsep, ","):
            value = value.replace(self.server_root + sep, self.node_root + sep)
        if value.endswith(self.server_root):
            value = value[: -len(self.server_root)] + self.node_root
        return value

    def path(self, value: Path) -> Path:
        return Path(self.text(str(value)))

    def env(self, env: Mapping[str, str]) -> dict[str, str]:
        return {k: self.text(v) for k, v in env.items()}

    def worker(self, spec: WorkerSpec) -> WorkerSpec:
        return dataclasses.replace(
            spec,
            argv=[self.text(a) for a in spec.argv],
            cwd=self.path(spec.cwd),
            log_path=self.path(spec.log_path),
            env=self.env(spec.env),
            binds=tuple(
                dataclasses.replace(b, source=self.path(b.source), dest=self.path(b.dest))
                for b in spec.binds
            ),
            scratch=self.path(spec.scratch) if spec.scratch else None,
        )


def run_store(env: Mapping[str, str]) -> ObjectStore:
    """The run's project's objects through the object endpoint, with the run's key."""
    from trainjobs.sdk.object_access import endpoint_store

    url = env.get("S3_ENDPOINT", "")
    ak, sk = env.get("ACCESS_KEY_ID", ""), env.get("SECRET_ACCESS_KEY", "")
    if not (url and ak and sk):
        raise StagingFailed(
            "the run has no object endpoint or key (S3_ENDPOINT, ACCESS_KEY_ID, "
            "SECRET_ACCESS_KEY), so a node without the shared run folder cannot stage it"
        )
    return endpoint_store(url, ak, sk)


def stage_inputs(store: ObjectStore, staging: NodeStaging, where: Relocation) -> list[str]:
    """Fill the node's run folder; a line for the log per input."""
    lines = []
    for item in staging.inputs:
        target = where.path(item.local)
        try:
            count = store.download(parse_obs_path(item.url), target)
        except (InvalidObsPath, OSError) as exc:
            raise StagingFailed(f"could not stage {item.url} on this node: {exc}") from exc
        lines.append(f"staged {count} file(s) from {item.url} into this node's {target}")
    for item in staging.outputs:
        where.path(item.local).mkdir(parents=True, exist_ok=True)
    return lines


class OutputUploads:
    """Uploads the node's output folders to the object store: new or changed files
    only, never following a link the run left there."""

    def __init__(self, store: ObjectStore, staging: NodeStaging, where: Relocation) -> None:
        self.store = store
        self.staging = staging
        self.where = where
        self._state: dict[str, dict[str, tuple[int, int]]] = {}
        self._lock = threading.Lock()

    def sync(self) -> str:
        """Upload what changed; the reason it failed, or ""."""
        root = Path(self.where.node_root)
        with self._lock:
            try:
                for item in self.staging.outputs:
                    state = self._state.setdefault(item.url, {})
                    local = self.where.path(item.local)
                    self.store.sync(local, parse_obs_path(item.url), state, within=root)
            except (OSError, InvalidObsPath) as exc:
                return f"uploading the outputs from this node failed: {exc}"
        return ""


def make_folders(spec: WorkerSpec, node_root: Path) -> None:
    """The run's folders a worker sees that staging did not fill (no data input,
    the log folder): a sandbox binds only folders that exist."""
    for bind in spec.binds:
        if bind.source.is_relative_to(node_root):
            bind.source.mkdir(parents=True, exist_ok=True)
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
