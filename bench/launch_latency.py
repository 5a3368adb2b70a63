"""Benchmark how long a trivial version takes to start and to finish, per executor.

For each executor, ``trainjobs serve`` is started on a fresh data dir as a user
would, a job is created with a boot file that does nothing (``pass``), and
then ``--runs`` versions of it are submitted one after another through the
HTTP API. For each version:

* submit-to-running: from just before the POST to the version's recorded
  ``start_time`` (the RUNNING transition, on the server's clock: the same
  machine), so a run too short to be seen RUNNING by polling still counts;
* submit-to-completed: from just before the POST until a poll (every
  ``--poll-ms``) sees status COMPLETED.

Next to them, the bare launch of the same interpreter on the same machine:
``subprocess.run([sys.executable, "-c", "pass"])``, timed around the call.

The local executor is measured twice, with the bubblewrap sandbox every run
gets by default and without it (``TRAINJOBS_NO_SANDBOX=1``), and the
sandbox's cost (the difference of the medians) is printed beside its target:
at most 10 ms added to submit -> running and to submit -> completed. The same
bare launch inside the sandbox (prepared and built as the executor does) shows
the sandbox's own cost without the service's noise around it.

    .venv/bin/python bench/launch_latency.py                   # local executor only
    .venv/bin/python bench/launch_latency.py --runs 50 --json out.json

The Ray executor is measured when a cluster address is given (``--ray-address``,
or ``TRAINJOBS_TEST_RAY_ADDRESS``). Ray must be reached over loopback only, so
run it inside the namespace the Ray tests use, which starts a two-node cluster:

    tests/ray/run.sh --run .venv/bin/python bench/launch_latency.py
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from trainjobs.objectstore import ObjectStore, parse_obs_path

COMPLETED = 10
FINAL = {3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 20, 21}
HEALTH_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 120.0
SANDBOX_TARGET_MS = 10.0  # what the sandbox may add to either figure
# A catalogue that fits one worker in a node of the test cluster (tests/ray/run.sh).
RAY_CATALOG = """
[[specs]]
spec_id = 1
spec_code = "ray.cpu.1u"
core = 1
cpu = 1
gpu_num = 0
gpu_type = ""
max_num = 1
"""


@dataclass
class Timings:
    name: str
    seconds: list[float]

    def row(self) -> str:
        ms = sorted(s * 1000 for s in self.seconds)
        if not ms:
            return f"{self.name:<38} (no samples)"
        return (
            f"{self.name:<38} n={len(ms):<4} p50={_pct(ms, 50):8.1f} ms  "
            f"p90={_pct(ms, 90):8.1f} ms  min={ms[0]:8.1f} ms  max={ms[-1]:8.1f} ms"
        )

    def summary(self) -> dict[str, float | int]:
        ms = sorted(s * 1000 for s in self.seconds)
        return {"n": len(ms), "p50_ms": _pct(ms, 50), "p90_ms": _pct(ms, 90)} if ms else {"n": 0}


def _p50(timings: Timings) -> float:
    return _pct(sorted(s * 1000 for s in timings.seconds), 50)


def _pct(sorted_ms: list[float], pct: int) -> float:
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[pct - 1]


def bare_launch(runs: int) -> Timings:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        seconds.append(time.perf_counter() - started)
    return Timings("bare subprocess.run(python -c pass)", seconds)


def sandboxed_launch(runs: int) -> Timings:
    """The same bare launch inside the sandbox a run's worker gets (its binds, its user)."""
    from trainjobs.executors import sandbox
    from trainjobs.executors.base import Bind, WorkerSpec

    policy = sandbox.Policy(enabled=True)
    seconds = []
    with tempfile.TemporaryDirectory(prefix="tj-sandbox-") as tmp:
        run = Path(tmp) / "runs" / "1"
        folders = [run / name for name in ("code", "data", "output")]
        for folder in folders:
            folder.mkdir(parents=True)
        worker = WorkerSpec(
            argv=[sys.executable, "-c", "pass"],
            cwd=folders[0],
            log_path=run / "log",
            binds=tuple(Bind(f, f, own=True) for f in folders),
            scratch=run / "scratch" / "0",
        )
        for _ in range(runs):
            started = time.perf_counter()
            # What the executor does per worker: prepare the folders, build the line, run it.
            sandbox.prepare(policy, worker)
            command = sandbox.bwrap_command(policy, worker, worker.argv)
            subprocess.run(command, check=True, env=sandbox.environment({}, policy))
            seconds.append(time.perf_counter() - started)
    return Timings("sandboxed (bwrap) python -c pass", seconds)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data_dir: Path, env: dict[str, str]) -> Iterator[tuple[httpx.Client, str]]:
    """A real ``trainjobs serve``; yields a client carrying its token and the /v1 prefix."""
    port = _free_port()
    log = open(data_dir.parent / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainjobs", "serve", "--port", str(port)],
        env={**os.environ, "TRAINJOBS_DATA_DIR": str(data_dir), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {log.name}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not become healthy; see {log.name}")
            time.sleep(0.1)
        creds = json.loads((data_dir / "credentials.json").read_text())
        with httpx.Client(base_url=base, headers={"X-Auth-Token": creds["token"]}) as client:
            yield client, f"/v1/{creds['project_id']}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_final(client: httpx.Client, url: str, poll_s: float) -> tuple[dict[str, object], float]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        version = client.get(url).json()
        if version["status"] in FINAL:
            return version, time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"version stayed in status {version['status']}: {url}")
        time.sleep(poll_s)


def measure_service(
    name: str, env: dict[str, str], runs: int, poll_s: float, catalog: str = ""
) -> tuple[Timings, Timings]:
    with tempfile.TemporaryDirectory(prefix="tj-launch-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        if catalog:
            (data / "catalog.toml").write_text(catalog)
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "boot.py").write_text("pass\n")
        with serve(data, env) as (client, v1):
            project_id = v1.rsplit("/", 1)[1]
            store = ObjectStore.from_url(str(data / "obs")).for_project(project_id)
            store.upload(code, parse_obs_path("/bench/code"))
            body = {
                "job_name": "launch-latency",
                "config": {
                    "worker_server_num": 1,
                    "app_url": "/bench/code/",
                    "boot_file_url": "/bench/code/boot.py",
                    "spec_id": 1,
                },
            }
            created = client.post(f"{v1}/training-jobs", json=body).json()
            job_id = created["job_id"]
            # The first version warms the server (imports, first Ray actor start): not counted.
            _wait_final(
                client, f"{v1}/training-jobs/{job_id}/versions/{created['version_id']}", poll_s
            )
            running, completed = [], []
            for _ in range(runs):
                submitted = time.time()
                response = client.post(f"{v1}/training-jobs/{job_id}/versions", json={"config": {}})
                response.raise_for_status()
                url = f"{v1}/training-jobs/{job_id}/versions/{response.json()['version_id']}"
                version, seen = _wait_final(client, url, poll_s)
                if version["status"] != COMPLETED:
                    raise RuntimeError(f"a trivial version ended in status {version['status']}")
                start_ms = version["start_time"]
                assert isinstance(start_ms, int)
                running.append(start_ms / 1000 - submitted)
                completed.append(seen - submitted)
    return (
        Timings(f"{name}: submit -> running", running),
        Timings(f"{name}: submit -> completed", completed),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="versions per executor")
    parser.add_argument("--poll-ms", type=float, default=10.0)
    parser.add_argument(
        "--ray-address",
        default=os.environ.get("TRAINJOBS_TEST_RAY_ADDRESS", ""),
        help="measure the Ray executor on this cluster too (loopback only)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    poll_s = args.poll_ms / 1000

    rows = [bare_launch(args.runs)]
    print(rows[-1].row(), flush=True)
    rows.append(sandboxed_launch(args.runs))
    print(rows[-1].row(), flush=True)
    cost = _p50(rows[-1]) - _p50(rows[0])
    # The minimum is the figure a busy machine disturbs least.
    least = (min(rows[-1].seconds) - min(rows[0].seconds)) * 1000
    print(
        f"sandbox cost, bare launch            {cost:+8.1f} ms (p50)  {least:+8.1f} ms (min)",
        flush=True,
    )
    local: dict[str, tuple[Timings, Timings]] = {}
    for name, extra in (("local", {}), ("local, no sandbox", {"TRAINJOBS_NO_SANDBOX": "1"})):
        env = {"TRAINJOBS_EXECUTOR": "local", **extra}
        local[name] = measure_service(name, env, args.runs, poll_s)
        for timing in local[name]:
            rows.append(timing)
            print(timing.row(), flush=True)
    for index, what in enumerate(("submit -> running", "submit -> completed")):
        with_it, without = local["local"][index], local["local, no sandbox"][index]
        cost = _p50(with_it) - _p50(without)
        least = (min(with_it.seconds) - min(without.seconds)) * 1000
        verdict = "ok" if cost <= SANDBOX_TARGET_MS else "OVER"
        print(
            f"sandbox cost, {what:<20} {cost:+8.1f} ms (p50)  {least:+8.1f} ms (min)  "
            f"(target <= {SANDBOX_TARGET_MS:g} ms: {verdict})",
            flush=True,
        )
    if args.ray_address:
        ray_env = {
            "TRAINJOBS_EXECUTOR": "ray",
            "TRAINJOBS_RAY_ADDRESS": args.ray_address,
            "TRAINJOBS_SHARED_STORAGE": "1",
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        for timing in measure_service("ray", ray_env, args.runs, poll_s, RAY_CATALOG):
            rows.append(timing)
            print(timing.row(), flush=True)
    if args.json:
        args.json.write_text(json.dumps({t.name: t.summary() for t in rows}, indent=2))


if __name__ == "__main__":
    main()
