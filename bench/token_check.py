"""What checking a token in the database on every request costs.

Tokens are not cached: a revoked token or a deleted user must stop working on
the very next request, on every server sharing the database. A cache that
honours that still needs one database round trip a request (to read a
revocation counter), so the baseline is that cache at its cheapest: an
in-memory lookup plus ``SELECT 1``. The check (``IdentityService.authenticate``:
one indexed read) is measured next to it and next to a whole
``GET /v1/{project}/training-jobs?per_page=10`` served by ``trainjobs serve``
on the same database: such a cache would save the difference, which must stay
under ``TARGET_SAVING`` of a served request for going without one to be right.

    .venv/bin/python bench/token_check.py
    .venv/bin/python bench/token_check.py --database-url postgresql+psycopg://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trainjobs.domain import bootstrap, hashing, identity
from trainjobs.store.database import Database

TARGET_SAVING = 0.05  # what the cheapest correct cache would save, as a share of a request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Microseconds per call."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1e6)
    return out


def _served(port: int, project: str, token: str, repeat: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = f"/v1/{project}/training-jobs?per_page=10"

    def one() -> None:
        conn.request("GET", path, headers={"X-Auth-Token": token})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status

    for _ in range(20):  # warm-up
        one()
    try:
        return _timed(one, repeat)
    finally:
        conn.close()


def _start(data_dir: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRAINJOBS_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "trainjobs", "serve", "--data-dir", str(data_dir)]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary dir")
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="tj-token-bench-"))
    url = args.database_url or f"sqlite:///{data_dir / 'trainjobs.db'}"
    db = Database(url)
    db.migrate()
    creds = bootstrap.bootstrap(db, data_dir, "http://127.0.0.1", 100)
    token, project = creds["token"], creds["project_id"]
    service = identity.IdentityService(db)
    cache = {hashing.hash_token(token): (project, time.monotonic() + 5)}
    port = _free_port()
    proc = _start(data_dir, url, port)
    try:
        checked = _timed(lambda: service.authenticate(token, project), args.repeat)

        def cached_and_counter() -> None:
            cache.get(hashing.hash_token(token))
            with db.read() as conn:
                conn.exec_driver_sql("SELECT 1").scalar()

        cached = _timed(cached_and_counter, args.repeat)
        served = _served(port, project, token, args.repeat // 4)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        db.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    rows = {
        "token check in the database": checked,
        "baseline: cache + counter read": cached,
        "a served listing (per_page=10)": served,
    }
    print(f"database: {url.split('://')[0]}; {args.repeat} checks")
    print(f"{'':34}{'p50 us':>10}{'p99 us':>10}")
    for name, values in rows.items():
        p99 = statistics.quantiles(values, n=100)[98]
        print(f"{name:34}{statistics.median(values):10.1f}{p99:10.1f}")
    check, baseline = statistics.median(checked), statistics.median(cached)
    saving = (check - baseline) / statistics.median(served)
    verdict = "ok  " if saving <= TARGET_SAVING else "MISS"
    print(f"      check / served request p50 = {check / statistics.median(served):.3f}")
    print(f"{verdict}  a cache would save (check - baseline) / served p50 = {saving:.3f}"
          f"  (target <= {TARGET_SAVING})")  # fmt: skip
    print(json.dumps({"saving": round(saving, 4)}))
    return 0 if saving <= TARGET_SAVING else 1


if __name__ == "__main__":
    sys.exit(main())
