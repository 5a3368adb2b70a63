"""The baseline of the listing benchmark: MLflow's tracking server on the same data.

MLflow is installed (pinned to ``MLFLOW_VERSION``) into a virtual environment of
its own, made once under a cache dir and reused, so that it never meets the
project's dependencies. Its server runs as one process (``--workers 1``), as
``trainjobs serve`` does, on a SQLite file, without the job-queue consumers it
would otherwise start beside it (they poll the database; searches never use
them). The server makes its schema when it starts; then one experiment gets as
many runs as the trainjobs target job has versions, inserted straight into
MLflow's tables in one transaction (through its REST API that would take far
longer than the measurement): each run named and timed as the version of the
same number, with the versions' configuration as params, the seeded system
metrics as metric history and latest values, and the tags the MLflow client
sets."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from _common import Result, Scenario, Target, free_port, measure, merged, stop_process, wait_healthy
from _figures import at_least, print_checks, print_results, rate_label
from _seed_versions import SYSTEM_METRICS

from trainjobs.domain.runner import version_name

MLFLOW_VERSION = "3.17.2"
EXPERIMENT = "bench-target"
SEARCH_PATH = "/api/2.0/mlflow/runs/search"
INSTALL_TIMEOUT_S = 900
BATCH_RUNS = 2_000
MS_PER_MINUTE = 60_000
READY_MARK = ".installed"

# As the seeded versions' configuration (bench/_seed_versions.py): what a run logs.
PARAMS = {
    "learning_rate": "0.01",
    "epochs": "10",
    "batch_size": "64",
    "engine_name": "Python",
    "engine_version": "python-3.11",
    "spec_code": "local.cpu.1u",
    "worker_server_num": "1",
    "data_url": "/bench-data/mnist/",
    "app_url": "/bench-code/app/",
    "boot_file_url": "/bench-code/app/train.py",
}


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trainjobs-bench"


def mlflow_venv(cache: Path, required: bool) -> Path | None:
    """MLflow's virtual environment under ``cache``, made if it is not there yet.
    None (said why) where it cannot be made, unless ``required``."""
    venv = cache / f"mlflow-{MLFLOW_VERSION}"
    if (venv / READY_MARK).exists():
        return venv
    print(f"installing MLflow {MLFLOW_VERSION} into {venv} (once) ...", flush=True)
    started = time.perf_counter()
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}"],
    ]
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            _unavailable(f"{' '.join(step[:4])}: {e}", required)
            return None
        if done.returncode != 0:
            _unavailable(f"{' '.join(step[:4])}: {done.stderr[-2000:]}", required)
            return None
    (venv / READY_MARK).write_text(MLFLOW_VERSION)
    print(f"MLflow installed in {time.perf_counter() - started:.0f} s", flush=True)
    return venv


def _unavailable(why: str, required: bool) -> None:
    if required:
        raise SystemExit(f"MLflow could not be installed: {why}")
    print(f"no MLflow baseline (--no-mlflow to skip the attempt): {why}", flush=True)


@dataclass
class MlflowServer:
    venv: Path
    work: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.work / "mlflow.db"

    @property
    def log_path(self) -> Path:
        return self.work / "mlflow-server.log"

    def start(self) -> MlflowServer:
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "artifacts").mkdir(exist_ok=True)
        self.port = free_port()
        command = [str(self.venv / "bin" / "mlflow"), "server", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", "1"]
        command += ["--backend-store-uri", f"sqlite:///{self.db_path}"]
        command += ["--default-artifact-root", str(self.work / "artifacts")]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work,
                env=_server_env(),
            )
        wait_healthy(self.proc, f"{self.base}/health", self.log_path, self.stop)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:  # uvicorn's worker, and anything else the server started, then the server
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.terminate()
        except psutil.NoSuchProcess:
            pass
        stop_process(proc)

    def experiment(self) -> str:
        """The benchmark's experiment id, created if need be."""
        with httpx.Client(base_url=self.base, timeout=60) as c:
            got = c.get(
                "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": EXPERIMENT}
            )
            if got.status_code == 200:
                return str(got.json()["experiment"]["experiment_id"])
            made = c.post("/api/2.0/mlflow/experiments/create", json={"name": EXPERIMENT})
            made.raise_for_status()
            return str(made.json()["experiment_id"])


def _server_env() -> dict[str, str]:
    return {
        **os.environ,
        # Nothing but loopback traffic.
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # Without this the server starts seven job-queue consumer processes that
        # poll the database: CPU taken from the server under test, and no part
        # of answering a search.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }


def seed_runs(db_path: Path, experiment_id: str, runs: int, artifact_root: Path) -> int:
    """Top the experiment up to ``runs`` runs (numbered as versions are: run i is
    named V000i and started i minutes after the first); the runs added."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        have = conn.execute(
            "SELECT count(*) FROM runs WHERE experiment_id = ?", (int(experiment_id),)
        ).fetchone()[0]
        if have >= runs:
            return 0
        series = {k: v for k, v in json.loads(SYSTEM_METRICS).items() if isinstance(v, list)}
        start_ms = int(time.time() * 1000) - runs * MS_PER_MINUTE
        conn.execute("BEGIN")
        for first in range(have + 1, runs + 1, BATCH_RUNS):
            batch = range(first, min(runs, first + BATCH_RUNS - 1) + 1)
            rows, params, metrics, latest, tags = [], [], [], [], []
            for number in batch:
                run_id = uuid.uuid4().hex
                start = start_ms + number * MS_PER_MINUTE
                end = start + 60_000 + (number * 7_919) % 540_000
                name = version_name(number)
                artifacts = f"{artifact_root}/{experiment_id}/{run_id}/artifacts"
                rows.append(
                    (run_id, name, "LOCAL", "train.py", "", "bench", "FINISHED", start, end)
                    + ("", "active", artifacts, int(experiment_id))
                )
                params += [(k, v, run_id) for k, v in PARAMS.items()]
                for key, values in series.items():
                    for step, value in enumerate(values):
                        metrics.append(
                            (key, float(value), start + step * MS_PER_MINUTE, run_id, step, 0)
                        )
                    last = len(values) - 1
                    latest.append(
                        (key, float(values[-1]), start + last * MS_PER_MINUTE, last, 0, run_id)
                    )
                tags += [
                    ("mlflow.runName", name, run_id),
                    ("mlflow.user", "bench", run_id),
                    ("mlflow.source.name", "train.py", run_id),
                    ("mlflow.source.type", "LOCAL", run_id),
                    ("job_name", EXPERIMENT, run_id),
                ]
            conn.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                " artifact_uri, experiment_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
            conn.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                " VALUES (?,?,?,?,?,?)",
                metrics,
            )
            conn.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                " VALUES (?,?,?,?,?,?)",
                latest,
            )
            conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
        conn.execute("COMMIT")
        return runs - have
    finally:
        conn.close()


def search_target(server: MlflowServer, experiment_id: str) -> Target:
    body = json.dumps({"experiment_ids": [experiment_id], "max_results": 10}).encode()
    return Target(server.port, SEARCH_PATH, method="POST", body=body)


def check_search(server: MlflowServer, experiment_id: str, runs: int) -> int:
    """One untimed search, checked: 10 runs, newest first, each with its params
    and metrics; the response's size."""
    target = search_target(server, experiment_id)
    response = httpx.post(
        f"{server.base}{SEARCH_PATH}", content=target.body, headers=target.all_headers(), timeout=60
    )
    if response.status_code != 200:
        raise SystemExit(f"MLflow runs/search: HTTP {response.status_code}: {response.text[:500]}")
    found = response.json().get("runs", [])
    names = [r["info"].get("run_name") for r in found]
    expected = [version_name(n) for n in range(runs, max(0, runs - 10), -1)]
    if names != expected:
        raise SystemExit(
            f"MLflow runs/search: {len(names)} runs {names[:3]}..., not {expected[:3]}..."
        )
    for run in found:
        data = run.get("data", {})
        if len(data.get("params", [])) != len(PARAMS) or not data.get("metrics"):
            raise SystemExit(f"MLflow runs/search: run {run['info']['run_name']} lacks its data")
    return len(response.content)


@contextmanager
def mlflow_serving(venv: Path, work: Path, runs: int) -> Iterator[tuple[Target, int, int | None]]:
    """MLflow up on an experiment of ``runs`` runs, its first page checked: the
    search to repeat, its response's size and the server's pid."""
    server = MlflowServer(venv, work)
    try:
        t0 = time.perf_counter()
        server.start()
        print(f"MLflow {MLFLOW_VERSION} up in {time.perf_counter() - t0:.1f} s (pid {server.pid})")
        experiment_id = server.experiment()
        t0 = time.perf_counter()
        added = seed_runs(server.db_path, experiment_id, runs, work / "artifacts")
        print(f"seeded {added:,} MLflow runs in {time.perf_counter() - t0:.1f} s; {runs:,} in all")
        size = check_search(server, experiment_id, runs)
        yield search_target(server, experiment_id), size, server.pid
    finally:
        server.stop()


def side_by_side(
    args: argparse.Namespace, trainjobs: Target, trainjobs_pid: int | None, work: Path, runs: int
) -> dict[str, Result]:
    """trainjobs' first page and MLflow's on the same runs, in ``--mlflow-rounds``
    alternating rounds (ABBA: a drift of the machine's load weighs on both alike)
    of ``--seconds`` in all each."""
    with mlflow_serving(args.mlflow_venv, work, runs) as (search, size, pid):
        sc = Scenario(f"per_page=10&page=1{rate_label(args.rate)}, beside MLflow", 10, 1, args.rate)
        msc = Scenario(
            f"MLflow runs/search max_results=10{rate_label(args.rate)}", 10, 1, args.rate
        )
        sides = [("trainjobs", trainjobs, sc, trainjobs_pid), ("mlflow", search, msc, pid)]
        rounds: dict[str, list[Result]] = {"trainjobs": [], "mlflow": []}
        share = args.seconds / args.mlflow_rounds
        for n in range(args.mlflow_rounds):
            for key, target, scenario, server_pid in sides if n % 2 == 0 else sides[::-1]:
                result = measure(
                    target, scenario, args.clients, share, args.warmup, args.client, server_pid
                )
                rounds[key].append(result)
        out = {f"side_{key}": merged(parts) for key, parts in rounds.items()}
    out["side_mlflow"].response_bytes = size
    print(f"  side by side: {args.mlflow_rounds} rounds of {share:g} s each", flush=True)
    return out


def print_side_by_side(trainjobs: Result, mlflow: Result, min_ratio: float) -> None:
    print_results(
        f"side by side: trainjobs' first page against MLflow {MLFLOW_VERSION}'s on the same "
        "runs, measured in alternating rounds",
        [trainjobs, mlflow],
    )
    ratio = trainjobs.rps / mlflow.rps if mlflow.rps > 0 else float("inf")
    print(
        f"trainjobs {trainjobs.rps:,.1f} req/s, MLflow runs/search {mlflow.rps:,.1f} req/s: "
        f"{ratio:.1f}x"
    )
    print_checks(
        "against the baseline",
        [at_least("per_page=10 req/s / MLflow's, x >=", ratio, min_ratio)],
    )
