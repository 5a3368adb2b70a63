"""Seeds a trainjobs data dir straight into SQLite, as the service's own tables
hold it: one project, a target job of a given number of versions, and other
jobs up to a total. Far faster than creating versions through the API, and
the rows are what the service would have written (the same snapshot, the same
catalogue columns), so listings read them as they would real ones."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from trainjobs.domain import bootstrap
from trainjobs.domain.catalog import load_catalog
from trainjobs.domain.clock import now_ms
from trainjobs.domain.configs import default_train_url
from trainjobs.domain.jobs import snapshot
from trainjobs.domain.metrics import EMPTY_MODEL_METRICS
from trainjobs.domain.runner import version_name
from trainjobs.settings import DEFAULT_JOB_QUOTA, Settings
from trainjobs.statuses import Status
from trainjobs.store.database import Database
from trainjobs.store.tables import jobs, versions

TARGET_JOB = "bench-target"
OTHER_JOB_PREFIX = "bench-other-"
BATCH_ROWS = 20_000
MS_PER_MINUTE = 60_000

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


def sqlite_url(data_dir: Path) -> str:
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
    db = Database(sqlite_url(data_dir))
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
    engine = _seed_engine(sqlite_url(data_dir))
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
