"""The server bench/sampler_cost.py measures: ``trainjobs serve`` with the
sampler's period set (or left to its default), its API, and its own CPU time
split by thread."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
TRAINJOBS = REPO / ".venv" / "bin" / "trainjobs"
HEALTH_TIMEOUT_S = 60.0


def cpu_of(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def kill_pids(pids: Sequence[int]) -> None:
    """SIGKILL each pid that is still alive (children first if given in that order)."""
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    project_id: str
    token: str
    data_dir: Path
    descendants: set[int]  # every process seen under the server, killed at the end if alive

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}


@contextmanager
def serve(data_dir: Path, metrics_period_s: float | None, capacity_cores: int) -> Iterator[Server]:
    port = free_port()
    env = dict(os.environ)
    env.pop("TRAINJOBS_METRICS_PERIOD_S", None)
    if metrics_period_s is not None:
        env["TRAINJOBS_METRICS_PERIOD_S"] = str(metrics_period_s)
    # The runs sleep: let them all be admitted at once, whatever cores and memory
    # this machine has (a server without a scheduler ignores these).
    env["TRAINJOBS_CAPACITY_CORES"] = str(max(64, capacity_cores))
    env["TRAINJOBS_CAPACITY_MEMORY_GIB"] = "100000"
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(TRAINJOBS), "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    descendants: set[int] = set()
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                log.flush()
                tail = Path(log.name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"server exited with {proc.returncode}:\n{tail}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy")
            time.sleep(0.1)
        creds = json.loads((data_dir / "credentials.json").read_text())
        yield Server(proc, url, creds["project_id"], creds["token"], data_dir, descendants)
    finally:
        with suppress(psutil.NoSuchProcess):
            descendants.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        kill_pids(sorted(descendants))  # runs the server left behind, if any


def api(server: Server, method: str, path: str, **kw: Any) -> dict[str, Any]:
    r = httpx.request(
        method,
        f"{server.url}/v1/{server.project_id}{path}",
        headers=server.headers,
        timeout=30,
        **kw,
    )
    if r.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
    body: dict[str, Any] = r.json()
    return body


def version_status(server: Server, job_id: int, version_id: int) -> int:
    body = api(server, "GET", f"/training-jobs/{job_id}/versions/{version_id}")
    return int(body["status"])


def thread_cpu(proc: psutil.Process) -> dict[int, float]:
    return {t.id: t.user_time + t.system_time for t in proc.threads()}


@dataclass
class Window:
    total_pct: float  # the server's CPU, % of one core
    old_threads: list[float]  # threads that existed before the runs, busiest first
    new_threads_pct: float  # all threads started since (run supervisors and the like)


def server_cpu(server: Server, seconds: float, before_runs: set[int]) -> Window:
    """The server's CPU over ``seconds``, split by thread."""
    me = psutil.Process(server.proc.pid)
    t0 = thread_cpu(me)
    c0, w0 = cpu_of(me), time.monotonic()
    time.sleep(seconds)
    c1, w1 = cpu_of(me), time.monotonic()
    t1 = thread_cpu(me)
    span = w1 - w0
    delta = {k: (v - t0.get(k, 0.0)) / span * 100 for k, v in t1.items()}
    old = sorted((v for k, v in delta.items() if k in before_runs), reverse=True)
    new = sum(v for k, v in delta.items() if k not in before_runs)
    return Window((c1 - c0) / span * 100, old, new)
