"""Benchmark moxing's copy_parallel: a folder of 1,000 files (200 MiB) from the
object store into a cache folder and back, beside a local ``cp -r`` of it.

Target: each direction within 10x of the local copy (a request per file:
threads and keep-alive connections are how it gets there).

By default the copies run as a training script runs them: the benchmark starts
its own ``trainjobs serve``, uploads the folder to the project's store through
the object endpoint, and creates a job whose boot file times
``mox.file.copy_parallel(obs_src, "/cache/data")`` and back to a new object
path inside the version's sandbox (with the run's ``S3_ENDPOINT`` and temporary
key), then prints its figures as one JSON line; the benchmark reads that line
from the version's log through the API (aom-log).

With ``--in-process`` (implied by ``--endpoint`` and ``--moto``) the copies run
in the benchmark's own process instead. The object store is then, in order of
preference:

* the endpoint given by ``--endpoint`` with ``--access-key``, ``--secret-key``
  and ``--bucket`` (a trainjobs server's ``obs_endpoint`` and a user's key from
  ``trainjobs users create NAME --with-aksk``, or any S3-compatible service);
* a fresh ``trainjobs serve`` on loopback, when it advertises an ``obs_endpoint``
  in credentials.json (a user with an access key is made for the benchmark);
* moto's S3 server on loopback (``pip install 'moto[server]'``), otherwise.

    .venv/bin/python bench/moxing_copy.py                  # 1,000 files, 200 MiB
    .venv/bin/python bench/moxing_copy.py --files 200 --mib 20   # a quick run
    .venv/bin/python bench/moxing_copy.py --in-process     # no version, no sandbox
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import Server, free_port, trainjobs_command

from trainjobs.runtime import RUN_PYTHONPATH

TARGET_RATIO = 10.0
HEALTH_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 1800.0
COMPLETED = 10
FINAL = {3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 20, 21}
MARKER = "moxing-bench "
# The version's boot file: the copies as a training script makes them, in its sandbox.
BOOT = """
import argparse, json, os, time
import moxing as mox

parser = argparse.ArgumentParser()
for name in ("src", "back", "threads"):
    parser.add_argument("--" + name, default="")
args, _ = parser.parse_known_args()
threads, cache = int(args.threads), "/cache/data"
started = time.perf_counter()
mox.file.copy_parallel(args.src, cache, threads=threads)
in_s = time.perf_counter() - started
started = time.perf_counter()
mox.file.copy_parallel(cache, args.back, threads=threads)
out_s = time.perf_counter() - started
names = sorted(mox.file.list_directory(args.back, recursive=True))
same = names == sorted(mox.file.list_directory(args.src, recursive=True))
copied = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(cache) for f in fs)
same = same and mox.file.get_size(args.back, recursive=True) == copied
figures = {"in_s": in_s, "out_s": out_s, "same": same, "bytes": copied}
print("moxing-bench " + json.dumps(figures), flush=True)
"""


@dataclass(frozen=True)
class Store:
    kind: str
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str


@dataclass(frozen=True)
class Figures:
    up_s: float
    in_s: float
    out_s: float
    same: bool
    copied: int  # bytes that reached the cache folder


def _make_bucket(store: Store) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=store.endpoint,
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
        region_name="us-east-1",
    )
    with suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=store.bucket)


@contextmanager
def _trainjobs(work: Path) -> Iterator[tuple[Server, Store | None]]:
    """A fresh trainjobs server, and its object endpoint (None when it serves none)
    with the key of a user of its default project."""
    server = Server(work / "trainjobs-data", work / "serve.log").start()
    try:
        creds = json.loads((server.data_dir / "credentials.json").read_text())
        if not creds.get("obs_endpoint"):
            yield server, None
            return
        made = subprocess.run(
            [trainjobs_command(), "users", "create", f"bench-{uuid.uuid4().hex[:6]}",
             "--with-aksk", "--json", "--data-dir", str(server.data_dir)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        user = json.loads(made.stdout)
        store = Store(
            "trainjobs", creds["obs_endpoint"], user["access_key"], user["secret_key"], "bench"
        )
        _make_bucket(store)
        yield server, store
    finally:
        server.stop()


@contextmanager
def _moto() -> Iterator[Store]:
    """moto's S3 server in a process of its own, as a real endpoint would be: in
    this process it would share the interpreter's lock with the copying threads."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        store = Store("moto", endpoint, "bench", "bench", "bench")
        _make_bucket(store)
        yield store
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@contextmanager
def _store(args: argparse.Namespace, work: Path) -> Iterator[Store]:
    if args.endpoint:
        yield Store("given", args.endpoint, args.access_key, args.secret_key, args.bucket)
        return
    if not args.moto:
        with _trainjobs(work) as (_server, served):
            if served is not None:
                yield served
                return
        print("trainjobs serves no object endpoint here (no obs_endpoint): using moto")
    with _moto() as store:
        yield store


def _make_source(root: Path, files: int, total_bytes: int) -> None:
    size = total_bytes // files
    block = os.urandom(size)
    for i in range(files):
        sub = root / f"part{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        # Each file differs, so nothing along the way can deduplicate them.
        (sub / f"sample{i:04d}.bin").write_bytes(i.to_bytes(4, "big") + block[4:])


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _in_process(mox: Any, store: Store, source: Path, work: Path, threads: int) -> Figures:
    """The copies in this process, against the store's endpoint."""
    mox.file.set_auth(ak=store.access_key, sk=store.secret_key, server=store.endpoint)
    remote = f"obs://{store.bucket}/moxing-bench-{uuid.uuid4().hex[:8]}"
    up_s = _timed(lambda: mox.file.copy_parallel(str(source), remote, threads=threads))
    cache = work / "cache" / "data"
    in_s = _timed(lambda: mox.file.copy_parallel(remote, str(cache), threads=threads))
    back = remote + "-back"
    out_s = _timed(lambda: mox.file.copy_parallel(str(cache), back, threads=threads))
    same = sorted(mox.file.list_directory(back, recursive=True)) == sorted(
        mox.file.list_directory(str(source), recursive=True)
    )
    mox.file.remove(remote, recursive=True)
    mox.file.remove(back, recursive=True)
    copied = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    shutil.rmtree(cache)
    return Figures(up_s, in_s, out_s, same, copied)


def _in_version(
    mox: Any, server: Server, store: Store, source: Path, work: Path, threads: int, spec_id: int
) -> Figures:
    """The copies inside a version's sandbox, timed by its boot file; read from its log."""
    mox.file.set_auth(ak=store.access_key, sk=store.secret_key, server=store.endpoint)
    tag = uuid.uuid4().hex[:8]
    remote, back = f"obs://{store.bucket}/src-{tag}", f"obs://{store.bucket}/back-{tag}"
    up_s = _timed(lambda: mox.file.copy_parallel(str(source), remote, threads=threads))
    code = work / "code"
    code.mkdir()
    (code / "boot.py").write_text(BOOT)
    mox.file.copy_parallel(str(code), f"obs://{store.bucket}/code-{tag}")
    parameters = {"src": remote, "back": back, "threads": str(threads)}
    body = {
        "job_name": f"moxing-bench-{tag}",
        "config": {
            "worker_server_num": 1,
            "app_url": f"/{store.bucket}/code-{tag}/",
            "boot_file_url": f"/{store.bucket}/code-{tag}/boot.py",
            "spec_id": spec_id,
            "parameter": [{"label": k, "value": v} for k, v in parameters.items()],
        },
    }
    headers = {"X-Auth-Token": server.token}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        v1 = f"/v1/{server.project_id}"
        created = client.post(f"{v1}/training-jobs", json=body).json()
        if not created.get("is_success"):
            raise SystemExit(f"the job was not created: {created}")
        url = f"{v1}/training-jobs/{created['job_id']}/versions/{created['version_id']}"
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while (status := client.get(url).json()["status"]) not in FINAL:
            if time.monotonic() > deadline:
                raise SystemExit(f"the version stayed in status {status}")
            time.sleep(0.5)
        log = _log_tail(client, url)
    line = next((x for x in reversed(log) if x.startswith(MARKER)), None)
    if status != COMPLETED or line is None:
        raise SystemExit(f"the version ended in status {status}; its log:\n" + "\n".join(log))
    got = json.loads(line[len(MARKER) :])
    mox.file.remove(remote, recursive=True)
    mox.file.remove(back, recursive=True)
    return Figures(up_s, got["in_s"], got["out_s"], got["same"], got["bytes"])


def _widest_cpu_spec(server: Server) -> int:
    """The CPU spec with the most cores: a one-core spec would pin the copy to one core."""
    response = httpx.get(
        f"{server.base}/v1/{server.project_id}/job/resource-specs",
        headers={"X-Auth-Token": server.token},
        params={"job_type": "train"},
    )
    specs = [s for s in response.json()["specs"] if not s.get("gpu_num")]
    return int(max(specs, key=lambda s: int(s["core"]))["spec_id"])


def _log_tail(client: httpx.Client, url: str) -> list[str]:
    """The last lines of the version's first worker's log, through the API."""
    names = client.get(f"{url}/log/file-names").json()["log_file_list"]
    params = {"log_file": names[0], "lines": 500}
    page = client.get(f"{url}/aom-log", params=params).json()
    return str(page["content"]).splitlines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--access-key", default="")
    parser.add_argument("--secret-key", default="")
    parser.add_argument("--bucket", default="")
    parser.add_argument("--moto", action="store_true", help="use moto even if trainjobs serves S3")
    parser.add_argument(
        "--spec-id", type=int, default=0, help="the version's spec (default: most cores)"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="copy in this process, not in a version"
    )
    args = parser.parse_args()
    if args.endpoint and not (args.access_key and args.secret_key and args.bucket):
        parser.error("--endpoint needs --access-key, --secret-key and --bucket")
    in_process = args.in_process or args.endpoint or args.moto

    sys.path.insert(0, str(RUN_PYTHONPATH))
    import moxing as mox

    with tempfile.TemporaryDirectory(prefix="moxing-bench-") as tmp:
        work = Path(tmp)
        source = work / "source"
        _make_source(source, args.files, args.mib * 1024 * 1024)
        local_copy = work / "cp-copy"
        cp = ["cp", "-r", str(source), str(local_copy)]
        cp_s = _timed(lambda: subprocess.run(cp, check=True))
        if in_process:
            where = "in the benchmark's process"
            with _store(args, work) as store:
                figures = _in_process(mox, store, source, work, args.threads)
        else:
            with _trainjobs(work) as (server, served):
                if served is None:
                    raise SystemExit("trainjobs serves no object endpoint here: use --moto")
                store, spec_id = served, args.spec_id or _widest_cpu_spec(server)
                where = f"inside a version's sandbox (spec {spec_id})"
                figures = _in_version(mox, server, store, source, work, args.threads, spec_id)

    mib = figures.copied / 1024 / 1024
    print(f"moxing copy_parallel: {args.files} files, {mib:.0f} MiB, {args.threads} threads, "
          f"{where}, object store: {store.kind} ({store.endpoint})")  # fmt: skip
    print(f"{'step':<34}{'seconds':>9}{'MiB/s':>9}{'x cp -r':>9}{'target':>9}")
    rows = [
        ("baseline: local cp -r", cp_s, None),
        ("setup: local -> store", figures.up_s, None),
        ("store -> cache (copy in)", figures.in_s, TARGET_RATIO),
        ("cache -> store (copy back)", figures.out_s, TARGET_RATIO),
    ]
    ok = figures.same
    for name, seconds, target in rows:
        ratio = seconds / cp_s if cp_s > 0 else float("inf")
        goal = f"<= {target:g}x" if target else ""
        print(f"{name:<34}{seconds:>9.2f}{mib / seconds:>9.0f}{ratio:>8.1f}x{goal:>9}")
        if target is not None and ratio > target:
            ok = False
    print("round trip intact" if figures.same else "round trip LOST FILES")
    print("within target" if ok else "OUTSIDE TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
