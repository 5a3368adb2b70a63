"""Helpers for the tests that need a real Ray cluster (``tests/ray/run.sh`` starts one).

Not a conftest: a second ``conftest`` module outside a package would shadow the
suite's own for the tests collected after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import TRAINJOBS, Server, free_port

ADDRESS = os.environ.get("TRAINJOBS_TEST_RAY_ADDRESS", "")
requires_ray = pytest.mark.skipif(
    not ADDRESS, reason="needs a Ray cluster: run tests/ray/run.sh (make test-ray)"
)
NAMESPACE = "trainjobs"

# The cluster run.sh starts: two nodes of one CPU and 2 GiB each. Spec 1 fits a
# node; spec 2 fits the cluster's total but no single node, so Ray never places it.
CATALOG = """
[[specs]]
spec_id = 1
spec_code = "ray.cpu.1u"
core = 1
cpu = 1
gpu_num = 0
gpu_type = ""
max_num = 2

[[specs]]
spec_id = 2
spec_code = "ray.cpu.2u"
core = 2
cpu = 1
gpu_num = 0
gpu_type = ""
max_num = 1
"""


def ray_env(shared: bool = True) -> dict[str, str]:
    env = {
        "TRAINJOBS_EXECUTOR": "ray",
        "TRAINJOBS_RAY_ADDRESS": ADDRESS,
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    if shared:
        env["TRAINJOBS_SHARED_STORAGE"] = "1"
    return env


def ray_server(data_dir: Path, shared: bool = True, **extra_env: str) -> Server:
    """A real ``trainjobs serve`` on the Ray executor (configured by environment);
    ``shared``: every node mounts its data dir (``TRAINJOBS_SHARED_STORAGE``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "catalog.toml").write_text(CATALOG)
    return Server(data_dir, env={**ray_env(shared), **extra_env}).start()


def serve_with_flags(
    data_dir: Path, *flags: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """``trainjobs serve`` with command-line flags, and only the TRAINJOBS_ variables in ``env``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "catalog.toml").write_text(CATALOG)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    proc = subprocess.Popen(
        [*TRAINJOBS, "serve", "--port", str(port), "--s3-port", "0", "--data-dir", str(data_dir),
         *flags],  # fmt: skip
        env={**base, "TRAINJOBS_STOP_GRACE_S": "3", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return proc, port


def healthy(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def record(server: Server, version_id: int) -> dict[str, Any]:
    """What the Ray executor wrote in the run's state folder: its group and actor names."""
    path = server.data_dir / "runs" / str(version_id) / "workers" / "ray.json"
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def worker_pids(server: Server, version_id: int, count: int) -> list[int]:
    state = server.data_dir / "runs" / str(version_id) / "workers"
    wait_until(lambda: all((state / f"{r}.pid").exists() for r in range(count)))
    return [int(json.loads((state / f"{r}.pid").read_text())["pid"]) for r in range(count)]


def wait_until(check: Callable[[], object], timeout_s: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.1)


def actor_exists(name: str) -> bool:
    import ray

    try:
        ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return False
    return True


def group_state(name: str) -> str:
    """The placement group's state as Ray's GCS reports it; "GONE" once removed and forgotten."""
    import ray

    try:
        group = ray.util.get_placement_group(name)
    except ValueError:
        return "GONE"
    return str(ray.util.placement_group_table(group)["state"])
