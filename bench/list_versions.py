"""Benchmark GET /v1/{project_id}/training-jobs/{job_id}/versions on a large project.

Seeds a data dir straight into SQLite (one project, a target job with
``--target-versions`` versions and other jobs up to ``--versions-total``
versions in all), starts ``trainjobs serve`` on it as a user would, and drives
it with ``--clients`` concurrent keep-alive clients for ``--seconds`` per
scenario: the first page (per_page=10), a deep page (per_page=10,
page=``--deep-page``) and a big page (per_page=1000). Each size in
``--versions-total`` is run in turn on the same data dir, topped up between
runs, and checked against the targets.

    .venv/bin/python bench/list_versions.py             # 100k, then 1M versions
    .venv/bin/python bench/list_versions.py --quick     # a smoke run, seconds
    .venv/bin/python bench/list_versions.py --keep /tmp/tj-bench  # reuse the seeded dir

The clients are threads, each with its own keep-alive connection: an
``httpx.Client`` (default) or, with ``--client stdlib``, an ``http.client``
connection, which costs the client several times less CPU (asyncio with
``httpx.AsyncClient`` costs more than either). On a small machine the clients
share the CPU with the server, so the client's CPU time per request, the
server's, and what other processes used meanwhile are printed with each row.

By default the clients run closed loop (each sends as soon as its last answer
came): that gives the throughput at saturation, and latency ~ clients /
throughput. ``--rate`` (and ``--big-rate`` for per_page=1000) offer a fixed
load instead, with each request timed from when it was due.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    CLIENTS,
    Result,
    Scenario,
    Server,
    Target,
    free_port,
    measure,
    page_target,
)
from sqlalchemy import event

from trainjobs.domain import bootstrap, hashing
from trainjobs.domain.catalog import load_catalog
from trainjobs.domain.clock import now_ms
from trainjobs.domain.configs import default_train_url
from trainjobs.domain.jobs import snapshot
from trainjobs.domain.metrics import EMPTY_MODEL_METRICS
from trainjobs.domain.runner import version_name
from trainjobs.settings import DEFAULT_JOB_QUOTA, Settings
from trainjobs.statuses import Status
from trainjobs.store import identity as identity_q
from trainjobs.store import jobs as q
from trainjobs.store.database import Database
from trainjobs.store.tables import jobs, versions

TARGET_JOB = "bench-target"
OTHER_JOB_PREFIX = "bench-other-"
BATCH_ROWS = 20_000
MS_PER_MINUTE = 60_000

# Targets from the issue.
FIRST_PAGE_P50_MS = 5.0
FIRST_PAGE_P99_MS = 20.0
FIRST_PAGE_MIN_RPS = 400.0
DEEP_PAGE_MAX_RATIO = 1.5
BIG_PAGE_P50_MS = 100.0
SCALE_MAX_RATIO = 1.5
OTHER_CPU_WARN_PCT = 10

# As in the API reference's sample response: what a finished run reports.
SYSTEM_METRICS = json.dumps(
    {
        "cpuUsage": ["0", "3.10", "5.76", "0", "0", "0", "0"],
        "memUsage": ["0", "0.77", "2.09", "0", "0", "0", "0"],
        "gpuUtil": ["0", "0.25", "0.88", "0", "0", "0", "0"],
        "gpuMemUsage": ["0", "0.65", "6.01", "0", "0", "0", "0"],
        "diskReadRate": ["0", "91811.07", "38846.63", "0", "0", "0", "0"],
        "diskWriteRate": ["0", "2.23", "0.94", "0", "0", "0", "0"],
        "recvBytesRate": ["0", "5770405.50", "2980077.75", "0", "0", "0", "0"],
        "sendBytesRate": ["0", "12607.17", "10487410.00", "0", "0", "0", "0"],
        "interval": 1,
    },
    separators=(",", ":"),
)
PARAMETERS = json.dumps(
    [
        {"label": "learning_rate", "value": "0.01"},
        {"label": "epochs", "value": "10"},
        {"label": "batch_size", "value": "64"},
    ]
)
DATA_SOURCE = json.dumps([{"type": "obs", "data_url": "/bench-data/mnist/"}])
VOLUMES = json.dumps(
    [
        {
            "nfs": {
                "id": "43b37236-9afa-4855-8174-32254b9562e7",
                "src_path": "192.168.8.150:/",
                "dest_path": "/home/work/nas",
                "read_only": False,
            }
        },
        {"host_path": {"src_path": "/root/work", "dest_path": "/home/mind", "read_only": False}},
    ]
)


# Filled row by row in _insert_plans; the rest comes from _version_template.
PER_ROW_COLUMNS = frozenset(
    (
        "id",
        "job_id",
        "number",
        "pre_version_id",
        "create_time",
        "start_time",
        "duration",
        "train_url",
        "snapshot",
    )
)


# -- seeding --------------------------------------------------------------------


@dataclass
class SeedReport:
    project_id: str
    target_job_id: int
    target_versions: int
    versions_before: int
    versions_after: int
    jobs_after: int
    seconds: float


@dataclass
class _JobPlan:
    job_id: int
    name: str
    count: int
    first_number: int
    last_id: int = 0  # the highest version id it gets
    last_start: int = 0
    last_duration: int = 0


def _sqlite_url(data_dir: Path) -> str:
    return Settings(data_dir=data_dir).resolved_database_url


def _seed_engine(url: str) -> sa.Engine:
    """An engine for bulk loading: no fsync, a big page cache, exclusive use.

    ``journal_mode=DELETE`` (rather than the server's WAL) writes new pages
    once; the server puts the file back in WAL mode when it connects.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=DELETE")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-524288")  # KiB: 512 MiB
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")

    return engine


def _bootstrap(data_dir: Path) -> str:
    """The schema and the default project, as the service makes them on first start."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(_sqlite_url(data_dir))
    try:
        db.migrate()
        creds = bootstrap.bootstrap(
            db, data_dir, Settings(data_dir=data_dir).endpoint, DEFAULT_JOB_QUOTA
        )
    finally:
        db.dispose()
    return creds["project_id"]


def _version_template(data_dir: Path) -> dict[str, Any]:
    """The columns every seeded version shares: the default catalogue's engine,
    spec and pool, a finished run's metrics, the sample's data and volumes."""
    catalog = load_catalog(data_dir)
    engine = catalog.engine(catalog.default_engine_id)
    assert engine is not None
    spec, pool = catalog.default_spec, catalog.default_pool
    template: dict[str, Any] = {
        "status": int(Status.COMPLETED),
        "engine_id": engine.engine_id,
        "engine_type": engine.engine_type,
        "engine_name": engine.engine_name,
        "engine_version": engine.engine_version,
        "spec_id": spec.spec_id,
        "spec_code": spec.spec_code,
        "core": spec.core,
        "cpu": spec.cpu,
        "gpu_num": spec.gpu_num,
        "gpu_type": spec.gpu_type,
        "pool_id": pool.pool_id,
        "pool_name": pool.pool_name,
        "worker_server_num": 1,
        "app_url": "/bench-code/app/",
        "boot_file_url": "/bench-code/app/train.py",
        "data_url": "/bench-data/mnist/",
        "log_url": "",
        "dataset_id": "",
        "dataset_version_id": "",
        "dataset_name": "",
        "dataset_version_name": "",
        "data_source": DATA_SOURCE,
        "parameter": PARAMETERS,
        "volumes": VOLUMES,
        "model_id": 0,
        "user_image_url": "",
        "user_command": "",
        "nas_mount_path": "/home/work/nas",
        "nas_share_addr": "192.168.8.150:/",
        "nas_type": "nfs",
        "model_metric_list": EMPTY_MODEL_METRICS,
        "system_metric_list": SYSTEM_METRICS,
        "failure_reason": "",
    }
    columns = {c.name: c for c in versions.c}
    missing = [
        name
        for name, c in columns.items()
        if not c.nullable and c.server_default is None and name not in template
        if name not in PER_ROW_COLUMNS
    ]
    if missing:
        raise SystemExit(f"the versions table has columns this benchmark does not fill: {missing}")
    return {k: v for k, v in template.items() if k in columns}


def seed(
    data_dir: Path, total: int, target_versions: int, per_job: int, rng_seed: int
) -> SeedReport:
    """Top the project up to ``total`` versions: the target job first (once), then
    new other jobs of ``per_job`` versions each. Versions of the jobs being added
    are interleaved in id order, as concurrent work would leave them."""
    started = time.perf_counter()
    project_id = _bootstrap(data_dir)
    template = _version_template(data_dir)
    engine = _seed_engine(_sqlite_url(data_dir))
    try:
        with engine.begin() as conn:
            before = _count(conn, versions)
            target = conn.execute(
                sa.select(jobs.c.id).where(
                    jobs.c.project_id == project_id, jobs.c.job_name == TARGET_JOB
                )
            ).scalar()
            if before >= total:
                job_count = _count(conn, jobs)
                return SeedReport(
                    project_id,
                    int(target or 0),
                    _version_count(conn, target),
                    before,
                    before,
                    job_count,
                    time.perf_counter() - started,
                )
            next_job_id = int(conn.execute(sa.select(sa.func.max(jobs.c.id))).scalar() or 0) + 1
            next_version_id = (
                int(conn.execute(sa.select(sa.func.max(versions.c.id))).scalar() or 0) + 1
            )
            plans: list[_JobPlan] = []
            if target is None:
                if target_versions > total - before:
                    raise SystemExit(
                        f"--target-versions {target_versions} does not fit in {total} versions"
                    )
                plans.append(_JobPlan(next_job_id, TARGET_JOB, target_versions, 1))
                next_job_id += 1
            others = total - before - sum(p.count for p in plans)
            existing_others = int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(jobs)
                    .where(jobs.c.job_name.like(f"{OTHER_JOB_PREFIX}%"))
                ).scalar()
                or 0
            )
            for i in range(math.ceil(others / per_job)):
                count = min(per_job, others - i * per_job)
                name = f"{OTHER_JOB_PREFIX}{existing_others + i:06d}"
                plans.append(_JobPlan(next_job_id + i, name, count, 1))
            _insert_plans(conn, project_id, plans, next_version_id, template, rng_seed)
            target = target if target is not None else plans[0].job_id
            after = _count(conn, versions)
            job_count = _count(conn, jobs)
            target_versions = _version_count(conn, target)
    finally:
        engine.dispose()
    return SeedReport(
        project_id,
        int(target),
        target_versions,
        before,
        after,
        job_count,
        time.perf_counter() - started,
    )


def _version_count(conn: sa.Connection, job_id: int | None) -> int:
    if job_id is None:
        return 0
    count = conn.execute(sa.select(jobs.c.version_count).where(jobs.c.id == job_id)).scalar()
    return int(count or 0)


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _insert_plans(
    conn: sa.Connection,
    project_id: str,
    plans: Sequence[_JobPlan],
    first_version_id: int,
    template: dict[str, Any],
    rng_seed: int,
) -> None:
    # One slot per version, shuffled: the order the versions were created in.
    slots = [i for i, plan in enumerate(plans) for _ in range(plan.count)]
    random.Random(rng_seed + first_version_id).shuffle(slots)
    start_ms = now_ms() - len(slots) * MS_PER_MINUTE  # one version a minute, up to now

    # The job rows go in first, already holding what their versions will make them.
    for offset, index in enumerate(slots):
        plan = plans[index]
        plan.last_id = first_version_id + offset
        plan.last_start, plan.last_duration = _timing(start_ms, offset)
    conn.execute(
        jobs.insert(),
        [
            {
                "id": p.job_id,
                "project_id": project_id,
                "workspace_id": "0",
                "job_name": p.name,
                "job_desc": f"benchmark job {p.name}",
                "resource_id": f"job{p.job_id:08x}",
                "create_time": start_ms,
                "version_counter": p.first_number + p.count - 1,
                "version_count": p.count,
                "latest_version_id": p.last_id,
                "status": int(Status.COMPLETED),
                "start_time": p.last_start,
                "duration": p.last_duration,
            }
            for p in plans
        ],
    )

    numbers = [p.first_number for p in plans]
    previous = [0] * len(plans)
    batch: list[dict[str, Any]] = []
    for offset, index in enumerate(slots):
        plan = plans[index]
        version_id = first_version_id + offset
        number = numbers[index]
        numbers[index] += 1
        start, duration = _timing(start_ms, offset)
        row = dict(template)
        row.update(
            id=version_id,
            job_id=plan.job_id,
            number=number,
            pre_version_id=previous[index],
            create_time=start - 2_000,
            start_time=start,
            duration=duration,
            train_url=default_train_url(plan.name, version_name(number)),
        )
        row["snapshot"] = snapshot(row, f"job{plan.job_id:08x}")
        previous[index] = version_id
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            conn.execute(versions.insert(), batch)
            batch = []
    if batch:
        conn.execute(versions.insert(), batch)


def _timing(start_ms: int, offset: int) -> tuple[int, int]:
    """start_time and duration of the ``offset``-th version: runs of 1 to 10 minutes."""
    return start_ms + offset * MS_PER_MINUTE, 60_000 + (offset * 7_919) % 540_000


# -- query plans ----------------------------------------------------------------


@contextmanager
def _captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def query_plans(
    data_dir: Path, project_id: str, job_id: int, deep_offset: int
) -> list[tuple[str, str, list[str]]]:
    """EXPLAIN QUERY PLAN of the statements the store really sends for a listing."""
    db = Database(_sqlite_url(data_dir))
    out: list[tuple[str, str, list[str]]] = []
    try:
        token_sha = hashing.hash_token(
            json.loads((data_dir / bootstrap.CREDENTIALS_FILE).read_text())["token"]
        )
        with db.read() as conn:
            job = q.get_job(conn, project_id, job_id)
        assert job is not None
        calls: list[tuple[str, Any]] = [
            ("find_token (auth)", lambda c: identity_q.find_token(c, token_sha)),
            ("get_job", lambda c: q.get_job(c, project_id, job_id)),
            ("list_versions(10, 0)", lambda c: q.list_versions(c, job, 10, 0)),
            (
                f"list_versions(10, {deep_offset})",
                lambda c: q.list_versions(c, job, 10, deep_offset),
            ),
            ("list_versions(1000, 0)", lambda c: q.list_versions(c, job, 1000, 0)),
        ]
        for label, call in calls:
            with db.read() as conn, _captured(db.engine) as seen:
                call(conn)
            for statement, params in seen:
                with db.read() as conn:
                    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                out.append((label, " ".join(statement.split()), [str(r[-1]) for r in rows]))
    finally:
        db.dispose()
    return out


def _short_sql(statement: str) -> str:
    """The statement with its long select list shortened to a column count."""
    head, sep, rest = statement.partition(" FROM ")
    columns = head.removeprefix("SELECT ").split(", ")
    if not sep or len(columns) <= 3:
        return statement
    return f"SELECT <{len(columns)} columns> FROM {rest}"


def check_page(server: Server, path: str, sc: Scenario, target_versions: int) -> int:
    """One untimed request, checked: right size, newest first, right numbers."""
    with httpx.Client(base_url=server.base, headers={"X-Auth-Token": server.token}) as c:
        response = c.get(path, params={"per_page": sc.per_page, "page": sc.page}, timeout=60)
    if response.status_code != 200:
        raise SystemExit(f"{sc.name}: HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    items = body["versions"]
    first_number = target_versions - (sc.page - 1) * sc.per_page
    expected = [version_name(n) for n in range(first_number, first_number - sc.per_page, -1)]
    names = [v["version_name"] for v in items]
    if body["version_count"] != target_versions or names != expected[: len(names)] or not names:
        raise SystemExit(f"{sc.name}: unexpected page: {names[:3]}... of {body['version_count']}")
    if len(names) != min(sc.per_page, max(0, first_number)):
        raise SystemExit(f"{sc.name}: {len(names)} versions on the page")
    return len(response.content)


# -- the targets -----------------------------------------------------------------


@dataclass
class Check:
    what: str
    value: float
    limit: float
    ok: bool


def checks_for(results: dict[str, Result]) -> list[Check]:
    first, deep, big = results["first"], results["deep"], results["big"]
    out = [
        _at_most("per_page=10 p50 ms <=", first.p50_ms, FIRST_PAGE_P50_MS),
        _at_most("per_page=10 p99 ms <=", first.p99_ms, FIRST_PAGE_P99_MS),
        Check(
            "per_page=10 req/s >=", first.rps, FIRST_PAGE_MIN_RPS, first.rps >= FIRST_PAGE_MIN_RPS
        ),
    ]
    for metric in ("p50_ms", "p99_ms"):
        ratio = getattr(deep, metric) / getattr(first, metric)
        out.append(_at_most(f"deep/first {metric} <=", ratio, DEEP_PAGE_MAX_RATIO))
    out.append(_at_most("first/deep req/s <=", first.rps / deep.rps, DEEP_PAGE_MAX_RATIO))
    out.append(_at_most("per_page=1000 p50 ms <=", big.p50_ms, BIG_PAGE_P50_MS))
    return out


def _at_most(what: str, value: float, limit: float) -> Check:
    return Check(what, value, limit, value <= limit)


def scale_checks(small: dict[str, Result], large: dict[str, Result]) -> list[Check]:
    out = []
    for key in ("first", "deep", "big"):
        a, b = small[key], large[key]
        for metric in ("p50_ms", "p99_ms"):
            ratio = getattr(b, metric) / getattr(a, metric)
            out.append(_at_most(f"{a.scenario} {metric} large/small <=", ratio, SCALE_MAX_RATIO))
        out.append(_at_most(f"{a.scenario} req/s small/large <=", a.rps / b.rps, SCALE_MAX_RATIO))
    return out


def print_results(title: str, results: dict[str, Result]) -> None:
    print(f"\n{title}")
    head = (
        f"{'scenario':<30}{'requests':>9}{'err':>5}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'req/s':>9}{'KiB/resp':>10}{'cli cpu ms':>11}{'srv cpu ms':>11}{'other %':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results.values():
        print(
            f"{r.scenario:<30}{r.requests:>9}{r.errors:>5}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.max_ms:>9.2f}{r.rps:>9.1f}{r.response_bytes / 1024:>10.1f}"
            f"{r.client_cpu_ms:>11.2f}{r.server_cpu_ms:>11.2f}{r.other_cpu_pct:>9.0f}"
        )
    print(
        "cli/srv cpu ms: CPU time per request of this client process and of the server; "
        "other %: CPU that other processes used meanwhile (100 = one core)"
    )
    if any(r.other_cpu_pct > OTHER_CPU_WARN_PCT for r in results.values()):
        print(f"WARNING: other processes used over {OTHER_CPU_WARN_PCT}% of a core: figures skewed")


def print_checks(title: str, checks: Sequence[Check]) -> None:
    print(f"\n{title}")
    for c in checks:
        print(f"  {'ok  ' if c.ok else 'MISS'}  {c.what:<34}{c.value:>9.2f}  (target {c.limit:g})")


# -- the run ------------------------------------------------------------------------


def run_size(
    args: argparse.Namespace, data_dir: Path, total: int, log_path: Path
) -> tuple[SeedReport, dict[str, Result]] | None:
    print(f"\n=== {total:,} versions in the project ===", flush=True)
    report = seed(data_dir, total, args.target_versions, args.versions_per_job, args.rng_seed)
    if report.versions_before > total:
        print(f"the data dir already holds {report.versions_before:,} versions: skipped")
        return None
    added = report.versions_after - report.versions_before
    print(
        f"seeded {added:,} versions in {report.seconds:.1f} s "
        f"({added / max(report.seconds, 1e-9):,.0f} rows/s); now {report.versions_after:,} "
        f"versions in {report.jobs_after:,} jobs; target job {report.target_job_id} "
        f"with {report.target_versions:,}; db {_db_size_mib(data_dir):,.0f} MiB",
        flush=True,
    )
    deep_offset = (args.deep_page - 1) * 10
    if deep_offset >= report.target_versions:
        raise SystemExit(
            f"--deep-page {args.deep_page} lies past the target job's "
            f"{report.target_versions} versions"
        )
    if args.plans:
        for label, statement, plan in query_plans(
            data_dir, report.project_id, report.target_job_id, deep_offset
        ):
            print(f"  EXPLAIN QUERY PLAN {label}: {_short_sql(statement)}")
            for line in plan:
                print(f"      {line}")

    def at(rate: float) -> str:
        return f" @{rate:g}/s" if rate else ""

    scenarios = {
        "first": Scenario(f"per_page=10&page=1{at(args.rate)}", 10, 1, args.rate),
        "deep": Scenario(
            f"per_page=10&page={args.deep_page}{at(args.rate)}", 10, args.deep_page, args.rate
        ),
        "big": Scenario(f"per_page=1000&page=1{at(args.big_rate)}", 1000, 1, args.big_rate),
    }
    server = Server(data_dir, log_path)
    results: dict[str, Result] = {}
    try:
        t0 = time.perf_counter()
        server.start()
        assert server.proc is not None
        print(f"server up in {time.perf_counter() - t0:.1f} s (pid {server.proc.pid})")
        path = f"/v1/{server.project_id}/training-jobs/{report.target_job_id}/versions"
        for key, sc in scenarios.items():
            size = check_page(server, path, sc, report.target_versions)
            target = page_target(server, path, sc)
            result = measure(
                target, sc, args.clients, args.seconds, args.warmup, args.client, server.pid
            )
            result.response_bytes = size
            results[key] = result
            print(f"  {sc.name}: {result.requests} requests in {result.seconds:.1f} s", flush=True)
    finally:
        server.stop()
    print_results(f"{total:,} versions, {args.clients} clients, {args.seconds:g} s each", results)
    if not args.rate:
        rps, n = results["first"].rps, args.clients
        print(
            f"closed loop: latency ~ clients / throughput ({n} / {rps:.0f} req/s "
            f"= {n / rps * 1000:.1f} ms); a p50 of {FIRST_PAGE_P50_MS:g} ms "
            f"with {n} clients needs {n * 1000 / FIRST_PAGE_P50_MS:,.0f} req/s"
        )
    print_checks("targets", checks_for(results))
    return report, results


def _db_size_mib(data_dir: Path) -> float:
    return sum(p.stat().st_size for p in data_dir.glob("trainjobs.db*")) / 2**20


def client_overhead(clients: int, seconds: float, client_kind: str) -> float:
    """CPU ms per request that the client side alone costs, against a trivial
    server (stdlib, in another process) that answers a body the size of a
    per_page=10 page."""
    code = (
        "import http.server,sys\n"
        "b=b' ' * 19_500\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    protocol_version='HTTP/1.1'\n"
        "    def do_GET(self):\n"
        "        self.send_response(200);self.send_header('content-length',str(len(b)));"
        "self.end_headers();self.wfile.write(b)\n"
        "    def log_message(self,*a):pass\n"
        "http.server.ThreadingHTTPServer(('127.0.0.1',int(sys.argv[1])),H).serve_forever()\n"
    )
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        stub = Target(port, "/")
        r = measure(stub, Scenario("stub", 10, 1), clients, seconds, 0.2, client_kind, proc.pid)
        return r.client_cpu_ms
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--versions-total",
        type=int,
        nargs="+",
        default=None,
        help="project sizes to measure, in increasing order (default: 100000 1000000)",
    )
    p.add_argument("--target-versions", type=int, default=None, help="default: 10000")
    p.add_argument("--versions-per-job", type=int, default=200, help="for the other jobs")
    p.add_argument("--deep-page", type=int, default=None, help="default: 900 (per_page=10)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="stdlib",
        help="httpx.Client per thread, or http.client (stdlib: leaves more CPU to the server)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="per_page=10 runs: offered requests/s in all (open loop); 0: closed loop",
    )
    p.add_argument("--big-rate", type=float, default=0.0, help="the same for the per_page=1000 run")
    p.add_argument("--seconds", type=float, default=None, help="per scenario (default: 10)")
    p.add_argument("--warmup", type=float, default=None, help="seconds (default: 2)")
    p.add_argument(
        "--keep", type=Path, default=None, metavar="DIR", help="seed into DIR and keep it; reused"
    )
    p.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="write the figures to this file"
    )
    p.add_argument("--no-plans", dest="plans", action="store_false", help="skip EXPLAIN")
    p.add_argument("--rng-seed", type=int, default=1)
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20k then 50k versions, target 2000, deep page 190, 2 s each",
    )
    args = p.parse_args(argv)
    quick = {
        "versions_total": [20_000, 50_000],
        "target_versions": 2_000,
        "deep_page": 190,
        "seconds": 2.0,
        "warmup": 0.5,
    }
    full = {
        "versions_total": [100_000, 1_000_000],
        "target_versions": 10_000,
        "deep_page": 900,
        "seconds": 10.0,
        "warmup": 2.0,
    }
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.versions_total != sorted(args.versions_total):
        p.error("--versions-total: sizes go in increasing order (rows are only added)")
    if (args.deep_page - 1) * 10 >= args.target_versions:
        p.error("--deep-page lies past the target job's last version")
    if args.target_versions > args.versions_total[0] or args.versions_per_job < 1:
        p.error("--target-versions must fit in the first size; --versions-per-job >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    work: Path | None = None
    if args.keep is not None:
        data_dir = args.keep
        log_path = args.keep / "bench-serve.log"
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="trainjobs-bench-"))
        data_dir, log_path = work / "data", work / "serve.log"
    print(
        f"data dir {data_dir}{' (kept)' if args.keep else ''}; server log {log_path}; "
        f"{os.cpu_count()} CPUs"
    )
    measured: list[tuple[int, SeedReport, dict[str, Result]]] = []
    try:
        overhead = client_overhead(args.clients, min(args.seconds, 3.0), args.client)
        print(
            f"client cost alone ({args.client}, {args.clients} threads, against a stub server): "
            f"{overhead:.2f} CPU ms/req"
        )
        for total in args.versions_total:
            done = run_size(args, data_dir, total, log_path)
            if done is not None:
                measured.append((total, *done))
        if len(measured) >= 2:
            (small_n, _, small), (large_n, _, large) = measured[0], measured[-1]
            print_checks(
                f"{large_n:,} versions against {small_n:,}: within {SCALE_MAX_RATIO}x",
                scale_checks(small, large),
            )
        if args.json is not None:
            args.json.write_text(
                json.dumps(
                    {
                        "client_overhead_cpu_ms": overhead,
                        "sizes": [
                            {
                                "versions_total": n,
                                "seed": asdict(rep),
                                "results": {
                                    k: {f: v for f, v in asdict(r).items() if f != "latencies_ms"}
                                    for k, r in res.items()
                                },
                            }
                            for n, rep, res in measured
                        ],
                    },
                    indent=2,
                )
            )
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nwhole run: {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
