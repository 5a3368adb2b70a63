"""Benchmark the object endpoint's throughput against a moto S3 server, side by side.

``trainjobs serve`` is started on a fresh data dir as a user would (the
embedded defaults: the store is a folder), a user with an access key is made
by ``trainjobs users create --with-aksk``, and moto's S3 server is started on
another loopback port. The same boto3 client code then measures, against each:

* one 256 MiB object: PUT (a single request, its body streamed from a file)
  and GET (streamed to a file), each the median of three, in MB/s (10^6
  bytes per second);
* 1,000 objects of 4 KiB: PUT then GET one after another, in objects/s and MB/s.

Targets: the endpoint moves a large object at 200 MB/s or more, and is at
least as fast as moto in every row.

    .venv/bin/python bench/object_endpoint.py
    .venv/bin/python bench/object_endpoint.py --large-mib 64 --small 200 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

MIB = 1024 * 1024
TARGET_LARGE_MB_S = 200.0
LARGE_REPEAT = 3  # each large transfer is timed this many times: the median counts
HEALTH_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(args: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **kwargs)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def trainjobs_endpoint(work: Path) -> Iterator[tuple[str, str, str]]:
    """(endpoint URL, access key, secret key) of a fresh server's object endpoint."""
    data = work / "data"
    port = free_port()
    cli = [sys.executable, "-m", "trainjobs"]
    args = [*cli, "serve", "--port", str(port), "--s3-port", "0", "--data-dir", str(data)]
    with process(args, work / "serve.log") as proc:
        wait_up(f"http://127.0.0.1:{port}/health", proc)
        creds = json.loads((data / "credentials.json").read_text())
        made = subprocess.run(
            [*cli, "users", "create", "bench", "--with-aksk", "--json", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            check=True,
        )
        user = json.loads(made.stdout)
        yield creds["obs_endpoint"], user["access_key"], user["secret_key"]


@contextmanager
def moto_endpoint(work: Path) -> Iterator[tuple[str, str, str]]:
    port = free_port()
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    with process(args, work / "moto.log", env=env) as proc:
        wait_up(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}", "bench", "bench"


def client(url: str, ak: str, sk: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def timed(action: Callable[[], None], repeat: int = 1) -> float:
    """The median of ``repeat`` timings. Each starts with nothing dirty in the page
    cache, so no run pays for the writes of the one before it (the store's file
    after a PUT, the client's file after a GET) as it is flushed to disk."""
    seconds = []
    for _ in range(repeat):
        os.sync()
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return sorted(seconds)[len(seconds) // 2]


def measure(s3: Any, work: Path, large_mib: int, small: int) -> dict[str, float]:
    bucket = "bench"
    s3.create_bucket(Bucket=bucket)
    source = work / "large.bin"
    size = large_mib * MIB
    if not source.exists():
        with open(source, "wb") as f:
            for _ in range(large_mib):
                f.write(os.urandom(MIB))

    def put_large() -> None:
        with open(source, "rb") as body:
            s3.put_object(Bucket=bucket, Key="large.bin", Body=body)

    def get_large() -> None:
        body = s3.get_object(Bucket=bucket, Key="large.bin")["Body"]
        with open(work / "large.back", "wb") as out:
            for chunk in body.iter_chunks(MIB):
                out.write(chunk)

    put_s = timed(put_large, LARGE_REPEAT)
    get_s = timed(get_large, LARGE_REPEAT)
    payload = os.urandom(4096)

    def put_small() -> None:
        for i in range(small):
            s3.put_object(Bucket=bucket, Key=f"small/{i:05d}", Body=payload)

    def get_small() -> None:
        for i in range(small):
            s3.get_object(Bucket=bucket, Key=f"small/{i:05d}")["Body"].read()

    put_small_s = timed(put_small)
    get_small_s = timed(get_small)
    return {
        "large_put_mb_s": size / put_s / 1e6,
        "large_get_mb_s": size / get_s / 1e6,
        "small_put_per_s": small / put_small_s,
        "small_get_per_s": small / get_small_s,
    }


ROWS = [
    ("large_put_mb_s", "PUT {large} MiB object", "MB/s"),
    ("large_get_mb_s", "GET {large} MiB object", "MB/s"),
    ("small_put_per_s", "PUT {small} x 4 KiB", "obj/s"),
    ("small_get_per_s", "GET {small} x 4 KiB", "obj/s"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="tj-bench-s3-") as tmp:
        work = Path(tmp)
        with trainjobs_endpoint(work) as (url, ak, sk):
            results["trainjobs"] = measure(client(url, ak, sk), work, args.large_mib, args.small)
        with moto_endpoint(work) as (url, ak, sk):
            results["moto"] = measure(client(url, ak, sk), work, args.large_mib, args.small)
    ours, moto = results["trainjobs"], results["moto"]
    print(f"{'':28} {'trainjobs':>11} {'moto':>11}  target")
    failed = False
    for name, label, unit in ROWS:
        target = ">= moto"
        ok = ours[name] >= moto[name]
        if name.startswith("large"):
            target += f", >= {TARGET_LARGE_MB_S:.0f} MB/s"
            ok = ok and ours[name] >= TARGET_LARGE_MB_S
        failed = failed or not ok
        text = label.format(large=args.large_mib, small=args.small)
        print(
            f"{text:28} {ours[name]:>8.1f} {unit:<5} {moto[name]:>6.1f} {unit:<5} {target}"
            f"  {'ok' if ok else 'MISSED'}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
