"""The load bench/sampler_cost.py measures the sampler under: run-like process
trees (a sleeping python and its sleeping python child) started here, and
RUNNING jobs of the same trees on a server."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from _sampler_server import Server, api, kill_pids, version_status

from trainjobs.executors.base import ProcessRef
from trainjobs.objectstore import ObjectStore, parse_obs_path

RUNNING = 8
TERMINAL = {10, 11, 12, 13, 14}

# A run's process tree: this python, and one python child, both asleep.
TREE_SRC = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep({secs})'])\n"
    "time.sleep({secs})\n"
    "child.kill()\n"
)


@dataclass
class Trees:
    roots: list[subprocess.Popen[bytes]]
    refs: list[ProcessRef]
    all_pids: list[int]  # roots and their children


def start_trees(count: int, life_s: float) -> Trees:
    code = TREE_SRC.format(secs=life_s)
    roots = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.DEVNULL, start_new_session=True
        )
        for _ in range(count)
    ]
    refs = [ProcessRef(p.pid, psutil.Process(p.pid).create_time()) for p in roots]
    deadline = time.monotonic() + 60
    all_pids: list[int] = []
    for p in roots:
        while True:
            kids = psutil.Process(p.pid).children()
            if kids or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        all_pids.extend(k.pid for k in kids)
    all_pids.extend(p.pid for p in roots)
    return Trees(roots, refs, all_pids)


def stop_trees(trees: Trees) -> None:
    kill_pids(trees.all_pids)  # children first, then roots
    for p in trees.roots:
        p.wait(timeout=10)


def upload_code(data_dir: Path, life_s: float) -> None:
    code = data_dir / "code-src"
    code.mkdir()
    (code / "sleep.py").write_text(TREE_SRC.format(secs=life_s))
    ObjectStore.from_url(str(data_dir / "obs")).upload(code, parse_obs_path("/bench/code"))


def create_runs(server: Server, count: int) -> list[tuple[int, int]]:
    created: list[tuple[int, int]] = []
    for i in range(count):
        body = api(
            server,
            "POST",
            "/training-jobs",
            json={
                "job_name": f"sampler-bench-{i}",
                "config": {
                    "worker_server_num": 1,
                    "app_url": "/bench/code/",
                    "boot_file_url": "/bench/code/sleep.py",
                    "spec_id": 1,
                },
            },
        )
        created.append((int(body["job_id"]), int(body["version_id"])))
    deadline = time.monotonic() + 120
    pending = set(created)
    while pending:
        for job_id, version_id in list(pending):
            status = version_status(server, job_id, version_id)
            if status == RUNNING:
                pending.discard((job_id, version_id))
            elif status in TERMINAL:
                raise RuntimeError(f"version {version_id} ended early: status {status}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} versions never reached RUNNING")
        time.sleep(0.2)
    return created


def stop_runs(server: Server, created: list[tuple[int, int]]) -> None:
    for job_id, version_id in created:
        api(server, "POST", f"/training-jobs/{job_id}/versions/{version_id}/stop")
    deadline = time.monotonic() + 60
    pending = set(created)
    while pending and time.monotonic() < deadline:
        for job_id, version_id in list(pending):
            if version_status(server, job_id, version_id) in TERMINAL:
                pending.discard((job_id, version_id))
        time.sleep(0.2)
    if pending:
        print(f"  note: {len(pending)} versions did not end after stop", file=sys.stderr)
