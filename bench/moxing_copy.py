"""Benchmark moxing's copy_parallel: a folder of 1,000 files (200 MiB) from the
object store into a cache folder and back, beside a local ``cp -r`` of it.

Target: each direction within 10x of the local copy (a request per file:
threads and keep-alive connections are how it gets there).

The object store is, in order of preference:

* the endpoint given by ``--endpoint`` with ``--access-key``, ``--secret-key``
  and ``--bucket`` (a trainjobs server's ``obs_endpoint`` and a user's key from
  ``trainjobs users create NAME --with-aksk``, or any S3-compatible service);
* a fresh ``trainjobs serve`` on loopback, when it advertises an ``obs_endpoint``
  in credentials.json (a user with an access key is made for the benchmark);
* moto's S3 server on loopback (``pip install 'moto[server]'``), otherwise.

    .venv/bin/python bench/moxing_copy.py                  # 1,000 files, 200 MiB
    .venv/bin/python bench/moxing_copy.py --files 200 --mib 20   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from trainjobs.runtime import RUN_PYTHONPATH

TARGET_RATIO = 10.0
HEALTH_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Store:
    kind: str
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
def _trainjobs(work: Path) -> Iterator[Store | None]:
    """A fresh trainjobs server's object endpoint, or None when it serves none."""
    data_dir, port = work / "trainjobs-data", _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    trainjobs = [sys.executable, "-m", "trainjobs"]
    with open(work / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [*trainjobs, "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        creds_file = data_dir / "credentials.json"
        creds = json.loads(creds_file.read_text()) if creds_file.exists() else {}
        if not creds.get("obs_endpoint"):
            yield None
            return
        made = subprocess.run(
            [*trainjobs, "users", "create", f"bench-{uuid.uuid4().hex[:6]}", "--with-aksk",
             "--json", "--data-dir", str(data_dir)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        user = json.loads(made.stdout)
        store = Store(
            "trainjobs", creds["obs_endpoint"], user["access_key"], user["secret_key"], "bench"
        )
        _make_bucket(store)
        yield store
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@contextmanager
def _moto() -> Iterator[Store]:
    """moto's S3 server in a process of its own, as a real endpoint would be: in
    this process it would share the interpreter's lock with the copying threads."""
    port = _free_port()
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
        with _trainjobs(work) as served:
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


def _timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


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
    args = parser.parse_args()
    if args.endpoint and not (args.access_key and args.secret_key and args.bucket):
        parser.error("--endpoint needs --access-key, --secret-key and --bucket")

    sys.path.insert(0, str(RUN_PYTHONPATH))
    import moxing as mox

    with tempfile.TemporaryDirectory(prefix="moxing-bench-") as tmp:
        work = Path(tmp)
        source = work / "source"
        _make_source(source, args.files, args.mib * 1024 * 1024)
        local_copy = work / "cp-copy"
        cp = ["cp", "-r", str(source), str(local_copy)]
        cp_s = _timed(lambda: subprocess.run(cp, check=True))
        with _store(args, work) as store:
            mox.file.set_auth(ak=store.access_key, sk=store.secret_key, server=store.endpoint)
            remote = f"obs://{store.bucket}/moxing-bench-{uuid.uuid4().hex[:8]}"
            up_s = _timed(lambda: mox.file.copy_parallel(str(source), remote, threads=args.threads))
            cache = work / "cache" / "data"
            in_s = _timed(lambda: mox.file.copy_parallel(remote, str(cache), threads=args.threads))
            back = remote + "-back"
            out_s = _timed(lambda: mox.file.copy_parallel(str(cache), back, threads=args.threads))
            same = sorted(mox.file.list_directory(back, recursive=True)) == sorted(
                mox.file.list_directory(str(source), recursive=True)
            )
            mox.file.remove(remote, recursive=True)
            mox.file.remove(back, recursive=True)
        copied = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
        shutil.rmtree(cache)

    mib = copied / 1024 / 1024
    print(f"moxing copy_parallel: {args.files} files, {mib:.0f} MiB, {args.threads} threads, "
          f"object store: {store.kind} ({store.endpoint})")  # fmt: skip
    print(f"{'step':<34}{'seconds':>9}{'MiB/s':>9}{'x cp -r':>9}{'target':>9}")
    rows = [
        ("baseline: local cp -r", cp_s, None),
        ("setup: local -> store", up_s, None),
        ("store -> cache (copy in)", in_s, TARGET_RATIO),
        ("cache -> store (copy back)", out_s, TARGET_RATIO),
    ]
    ok = same
    for name, seconds, target in rows:
        ratio = seconds / cp_s if cp_s > 0 else float("inf")
        goal = f"<= {target:g}x" if target else ""
        print(f"{name:<34}{seconds:>9.2f}{mib / seconds:>9.0f}{ratio:>8.1f}x{goal:>9}")
        if target is not None and ratio > target:
            ok = False
    print("round trip intact" if same else "round trip LOST FILES")
    print("within target" if ok else "OUTSIDE TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
