"""Benchmark how long a trivial version takes to start and to finish, per executor.

For each executor, ``trainjobs serve`` is started on a fresh data dir as a user
would (under ``--data-root``, on a disk a data dir lives on), a job is
created with a boot file that does nothing (``pass``), and then ``--runs``
versions of it are submitted one after another through the HTTP API. For each
version:

* submit-to-running: from just before the POST to the version's recorded
  ``start_time`` (the RUNNING transition, on the server's clock: the same
  machine), so a run too short to be seen RUNNING by polling still counts;
* submit-to-completed: from just before the POST until a poll (every
  ``--poll-ms``) sees status COMPLETED.

Then a burst: ``--burst`` versions submitted at once by 5 clients, timed until
the last is COMPLETED (versions a second); and stops: a version that holds is
stopped once its worker runs, timed from the worker tree's exit (the exit file
its parent writes as its last act) until a poll sees KILLED. Each figure is
printed beside its target, the first as a ratio to the bare spawn.

Next to them, the bare launch of the same interpreter on the same machine:
``subprocess.run([sys.executable, "-c", "pass"])``, timed around the call,
once before each round of versions, so that it meets the same drift of the
machine's load as they do.

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
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import Server
from _spawn import BARE_NAME, SANDBOXED_NAME, Timings, bare_once, p50, sandboxed_once

from trainjobs.objectstore import ObjectStore, parse_obs_path

RUNNING, COMPLETED, KILLED = 8, 10, 12
FINAL = {3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 20, 21}
RUN_TIMEOUT_S = 120.0
SANDBOX_TARGET_MS = 10.0  # what the sandbox may add to either figure
BURST_CLIENTS = 5  # the burst is submitted by this many clients at once
# Targets, as ratios to the bare spawn measured in the same run where they can be.
COMPLETED_RATIO_TARGET = 4.0
BURST_TARGET_PER_S = 20.0
STOP_LAG_TARGET_MS = 50.0
# A boot file that ends at once, or holds for --hold seconds (to be stopped).
BOOT = """
import sys, time
hold = float(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--hold=")), "0"))
if hold:
    print("holding", flush=True)
    time.sleep(hold)
"""
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


@contextmanager
def serve(data_dir: Path, env: dict[str, str]) -> Iterator[tuple[httpx.Client, str, Server]]:
    """A real ``trainjobs serve``; yields a client carrying its token, the /v1
    prefix and the server."""
    server = Server(data_dir, data_dir.parent / "serve.log", env=env).start()
    try:
        with httpx.Client(base_url=server.base, headers={"X-Auth-Token": server.token}) as client:
            yield client, f"/v1/{server.project_id}", server
    finally:
        server.stop()


def _wait_final(client: httpx.Client, url: str, poll_s: float) -> tuple[dict[str, object], float]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        version = client.get(url).json()
        if version["status"] in FINAL:
            return version, time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"version stayed in status {version['status']}: {url}")
        time.sleep(poll_s)


@dataclass
class Service:
    """Figures of one executor: single versions, a burst, and stops."""

    running: Timings
    completed: Timings
    burst_per_s: float
    stop_lag: Timings  # from the worker tree's exit to KILLED being visible


def _job(client: httpx.Client, v1: str, code: Path, data: Path, project_id: str) -> int:
    store = ObjectStore.from_url(str(data / "obs")).for_project(project_id)
    store.upload(code, parse_obs_path("/bench/code"))
    body = {
        "job_name": "launch-latency",
        "config": {
            "worker_server_num": 1,
            "app_url": "/bench/code/",
            "boot_file_url": "/bench/code/boot.py",
            "spec_id": 1,
            "parameter": [{"label": "hold", "value": "0"}],
        },
    }
    created = client.post(f"{v1}/training-jobs", json=body).json()
    return int(created["job_id"])


def _submit(client: httpx.Client, v1: str, job_id: int, hold: str = "0") -> str:
    config = {"parameter": [{"label": "hold", "value": hold}]}
    response = client.post(f"{v1}/training-jobs/{job_id}/versions", json={"config": config})
    response.raise_for_status()
    return f"{v1}/training-jobs/{job_id}/versions/{response.json()['version_id']}"


def _burst(server: Server, v1: str, job_id: int, count: int, poll_s: float) -> float:
    """Versions a second when ``count`` are submitted at once, until the last completes."""
    urls: list[str] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        with httpx.Client(base_url=server.base, headers={"X-Auth-Token": server.token}) as c:
            for _ in range(n):
                url = _submit(c, v1, job_id)
                with lock:
                    urls.append(url)

    threads = [
        threading.Thread(target=submit, args=(count // BURST_CLIENTS,))
        for _ in range(BURST_CLIENTS)
    ]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with httpx.Client(base_url=server.base, headers={"X-Auth-Token": server.token}) as c:
        for url in urls:
            version, _seen = _wait_final(c, url, poll_s)
            if version["status"] != COMPLETED:
                raise RuntimeError(f"a burst version ended in status {version['status']}")
        ended = time.time()
    return len(urls) / (ended - started)


def _stop_lag(client: httpx.Client, v1: str, job_id: int, data: Path) -> float:
    """Seconds from the stopped worker tree's exit to the version being seen KILLED."""
    url = _submit(client, v1, job_id, hold="600")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while client.get(url).json()["status"] != RUNNING:
        if time.monotonic() > deadline:
            raise RuntimeError("a version never ran")
        time.sleep(0.01)
    version_id = url.rsplit("/", 1)[1]
    logs = data / "runs" / version_id / "logs"
    while not any("holding" in p.read_text() for p in logs.glob("*")):  # the worker runs
        if time.monotonic() > deadline:
            raise RuntimeError("a version's worker never started")
        time.sleep(0.01)
    client.post(f"{url}/stop").raise_for_status()
    while (version := client.get(url).json())["status"] != KILLED:
        if version["status"] in FINAL or time.monotonic() > deadline:
            raise RuntimeError(f"a stopped version ended in status {version['status']}")
        time.sleep(0.002)
    seen = time.time()
    # The worker's parent records the exit as the tree's last act, then exits.
    exit_file = data / "runs" / version_id / "workers" / "0.exit"
    return seen - exit_file.stat().st_mtime


@dataclass
class _Subject:
    """One executor's server under measurement, and its figures so far."""

    name: str
    client: httpx.Client
    v1: str
    job_id: int
    server: Server
    data: Path
    running: list[float]
    completed: list[float]

    def one_version(self, poll_s: float) -> None:
        submitted = time.time()
        version, seen = _wait_final(self.client, _submit(self.client, self.v1, self.job_id), poll_s)
        if version["status"] != COMPLETED:
            raise RuntimeError(f"a trivial version ended in status {version['status']}")
        start_ms = version["start_time"]
        assert isinstance(start_ms, int)
        self.running.append(start_ms / 1000 - submitted)
        self.completed.append(seen - submitted)


@contextmanager
def _subject(
    name: str, env: dict[str, str], poll_s: float, catalog: str, root: Path
) -> Iterator[_Subject]:
    with tempfile.TemporaryDirectory(prefix="tj-launch-", dir=root) as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        if catalog:
            (data / "catalog.toml").write_text(catalog)
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "boot.py").write_text(BOOT)
        with serve(data, env) as (client, v1, server):
            job_id = _job(client, v1, code, data, server.project_id)
            # The first versions warm the server (imports, first Ray actor start): not counted.
            for _ in range(3):
                _wait_final(client, _submit(client, v1, job_id), poll_s)
            yield _Subject(name, client, v1, job_id, server, data, [], [])


def measure_services(
    executors: list[tuple[str, dict[str, str], str]],
    baselines: dict[str, Callable[[], float]],
    runs: int,
    poll_s: float,
    burst: int,
    root: Path,
) -> tuple[dict[str, Service], dict[str, Timings]]:
    """Every executor's server is up at once, and their single versions take turns
    (in an order that alternates) with the baselines' launches, so that a drift of
    the machine's load in the run weighs on each alike; the burst (first executor
    only) and stops follow. The services' figures, and the baselines'."""
    services = {}
    base = {name: Timings(name, []) for name in baselines}
    with ExitStack() as stack:
        subjects = [stack.enter_context(_subject(n, e, poll_s, c, root)) for n, e, c in executors]
        for i in range(runs):
            for name, launch in baselines.items():
                base[name].seconds.append(launch())
            for subject in subjects if i % 2 == 0 else subjects[::-1]:
                subject.one_version(poll_s)
        for k, s in enumerate(subjects):
            rate = _burst(s.server, s.v1, s.job_id, burst, poll_s) if burst and k == 0 else 0.0
            lags = [_stop_lag(s.client, s.v1, s.job_id, s.data) for _ in range(max(1, runs // 4))]
            services[s.name] = Service(
                Timings(f"{s.name}: submit -> running", s.running),
                Timings(f"{s.name}: submit -> completed", s.completed),
                rate,
                Timings(f"{s.name}: tree exit -> KILLED seen", lags),
            )
    return services, base


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(name: str, bare: Timings, service: Service, burst: int) -> list[str]:
    """The figures beside their targets, as ratios to the bare spawn of this run."""
    bare_p50 = bare.summary()["p50_ms"]
    done_p50 = service.completed.summary()["p50_ms"]
    ratio = done_p50 / bare_p50
    lines = [
        service.running.row(),
        service.completed.row(),
        f"{name}: submit -> completed p50 = {ratio:.2f}x the bare spawn "
        f"(target <= {COMPLETED_RATIO_TARGET:g}x): {_met(ratio <= COMPLETED_RATIO_TARGET)}",
    ]
    if burst:
        ok = service.burst_per_s >= BURST_TARGET_PER_S
        lines.append(
            f"{name}: burst of {burst} completes at {service.burst_per_s:.1f} versions/s "
            f"(target >= {BURST_TARGET_PER_S:g}): {_met(ok)}"
        )
    lines.append(service.stop_lag.row())
    worst = max(service.stop_lag.seconds) * 1000
    lines.append(
        f"{name}: stop -> KILLED at most {worst:.1f} ms after the tree's exit "
        f"(target <= {STOP_LAG_TARGET_MS:g} ms): {_met(worst <= STOP_LAG_TARGET_MS)}"
    )
    return lines


def sandbox_cost(boxed: Service, unboxed: Service) -> list[str]:
    """What the sandbox adds to a version's launch, beside its target."""
    lines = []
    for what, with_it, without in (
        ("submit -> running", boxed.running, unboxed.running),
        ("submit -> completed", boxed.completed, unboxed.completed),
    ):
        cost = p50(with_it) - p50(without)
        least = (min(with_it.seconds) - min(without.seconds)) * 1000
        lines.append(
            f"sandbox cost, {what:<20} {cost:+8.1f} ms (p50)  {least:+8.1f} ms (min)  "
            f"(target <= {SANDBOX_TARGET_MS:g} ms: {_met(cost <= SANDBOX_TARGET_MS)})"
        )
    return lines


# /var/tmp is on disk by the filesystem hierarchy standard, as data dirs are, where
# /tmp may be a tmpfs: every run's start makes folders and files in its data dir.
DATA_ROOT = Path("/var/tmp/trainjobs-bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="versions per executor")
    parser.add_argument("--burst", type=int, default=50, help="versions submitted at once")
    parser.add_argument("--poll-ms", type=float, default=5.0)
    parser.add_argument(
        "--ray-address",
        default=os.environ.get("TRAINJOBS_TEST_RAY_ADDRESS", ""),
        help="measure the Ray executor on this cluster too (loopback only)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--data-root", type=Path, default=DATA_ROOT, help="where the servers' data dirs go"
    )
    args = parser.parse_args()
    poll_s = args.poll_ms / 1000
    args.data_root.mkdir(parents=True, exist_ok=True)

    # Room for the burst's versions to run side by side: admission control would
    # otherwise hold all but one a core, which measures the scheduler, not launching.
    local_env = {"TRAINJOBS_EXECUTOR": "local", "TRAINJOBS_CAPACITY_CORES": "64"}
    unboxed_env = {**local_env, "TRAINJOBS_NO_SANDBOX": "1"}
    executors = [("local", local_env, ""), ("local, no sandbox", unboxed_env, "")]
    if args.ray_address:
        ray_env = {
            "TRAINJOBS_EXECUTOR": "ray",
            "TRAINJOBS_RAY_ADDRESS": args.ray_address,
            "TRAINJOBS_SHARED_STORAGE": "1",
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        executors.append(("ray", ray_env, RAY_CATALOG))
    # The sandboxed launches go first, not between versions: a sandbox's mount
    # namespace is torn down after its process ends, and that work would land
    # on the version that follows.
    with sandboxed_once(args.data_root) as boxed_once:
        boxed = Timings(SANDBOXED_NAME, [boxed_once() for _ in range(args.runs)])
    services, base = measure_services(
        executors, {BARE_NAME: bare_once}, args.runs, poll_s, args.burst, args.data_root
    )
    bare = base[BARE_NAME]
    out: dict[str, object] = {}
    for timings in (bare, boxed):
        print(timings.row(), flush=True)
        out[timings.name] = timings.summary()
    cost = p50(boxed) - p50(bare)
    # The minimum is the figure a busy machine disturbs least.
    least = (min(boxed.seconds) - min(bare.seconds)) * 1000
    print(
        f"sandbox cost, bare launch            {cost:+8.1f} ms (p50)  {least:+8.1f} ms (min)",
        flush=True,
    )
    for name, service in services.items():
        for line in report(name, bare, service, args.burst if name == "local" else 0):
            print(line, flush=True)
        out[name] = {
            "running": service.running.summary(),
            "completed": service.completed.summary(),
            "burst_per_s": service.burst_per_s,
            "stop_lag": service.stop_lag.summary(),
        }
    for line in sandbox_cost(services["local"], services["local, no sandbox"]):
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
