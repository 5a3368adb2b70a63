"""Benchmark GET /v1/{project_id}/training-jobs/{job_id}/versions on a large project,
side by side with MLflow's ``runs/search`` on the same data.

Seeds a data dir straight into SQLite (one project, a target job with
``--target-versions`` versions and other jobs up to ``--versions-total``
versions in all), starts ``trainjobs serve`` on it as a user would, and drives
it with ``--clients`` concurrent keep-alive clients for ``--seconds`` per
scenario: the first page (per_page=10), a deep page (per_page=10,
page=``--deep-page``) and a big page (per_page=1000, with ``--big-clients``:
8, as in its target). Each size in ``--versions-total`` is run in turn on the
same data dir, topped up between runs, and checked against the targets.

    .venv/bin/python bench/list_versions.py             # 100k, then 1M versions
    .venv/bin/python bench/list_versions.py --quick     # a smoke run, a minute or two
    .venv/bin/python bench/list_versions.py --keep /tmp/tj-bench  # reuse the seeded dir

The baseline, measured in the same run on the first size (``--no-mlflow``
skips it): MLflow's tracking server (``bench/_mlflow.py``), installed into a
virtual environment of its own under ``--cache`` (made once, then reused),
holding one experiment with as many runs as the target job has versions, each
with comparable params, metrics and tags. Its first page,
``POST /api/2.0/mlflow/runs/search`` with ``max_results`` 10, is driven by the
same load code, clients and duration as trainjobs' first page, in
``--mlflow-rounds`` rounds alternating with trainjobs' (ABBA, so that a drift
of the machine's load weighs on both alike). Each server is one process
(``mlflow server --workers 1``, uvicorn's single worker; ``trainjobs serve``
is one process too) and only one is under load at a time, the other idle.
trainjobs checks the project token of every request; MLflow, as it ships,
checks nothing.

The clients are threads, each with its own keep-alive connection: an
``httpx.Client`` or, with ``--client stdlib`` (the default), an
``http.client`` connection, which costs the client several times less CPU. On
a small machine the clients share the CPU with the server, so the client's CPU
time per request, the server's, and what other processes used meanwhile are
printed with each row.

By default the clients run closed loop (each sends as soon as its last answer
came): that gives the throughput at saturation, and latency ~ clients /
throughput. ``--rate`` (and ``--big-rate`` for per_page=1000) offer a fixed
load instead, with each request timed from when it was due.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import httpx
from _common import (
    CLIENTS,
    Result,
    Scenario,
    Server,
    client_overhead,
    measure,
    page_target,
)
from _figures import Check, at_least, at_most, print_checks, print_results, rate_label
from _mlflow import MLFLOW_VERSION, default_cache, mlflow_venv, print_side_by_side, side_by_side
from _query_plans import query_plans, short_sql
from _seed_versions import SeedReport, seed

from trainjobs.domain.runner import version_name

# Targets from the issue.
FIRST_PAGE_P50_MS = 5.0
FIRST_PAGE_P99_MS = 20.0
FIRST_PAGE_MIN_RPS = 400.0
DEEP_PAGE_MAX_RATIO = 1.5
BIG_PAGE_P50_MS = 100.0
BIG_PAGE_CLIENTS = 8
SCALE_MAX_RATIO = 1.5
MLFLOW_MIN_RATIO = 15.0


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


def checks_for(results: dict[str, Result], big_clients: int) -> list[Check]:
    first, deep, big = results["first"], results["deep"], results["big"]
    out = [
        at_most("per_page=10 p50 ms <=", first.p50_ms, FIRST_PAGE_P50_MS),
        at_most("per_page=10 p99 ms <=", first.p99_ms, FIRST_PAGE_P99_MS),
        at_least("per_page=10 req/s >=", first.rps, FIRST_PAGE_MIN_RPS),
    ]
    for metric in ("p50_ms", "p99_ms"):
        ratio = getattr(deep, metric) / getattr(first, metric)
        out.append(at_most(f"deep/first {metric} <=", ratio, DEEP_PAGE_MAX_RATIO))
    out.append(at_most("first/deep req/s <=", first.rps / deep.rps, DEEP_PAGE_MAX_RATIO))
    out.append(
        at_most(f"per_page=1000 p50 ms, {big_clients} clients <=", big.p50_ms, BIG_PAGE_P50_MS)
    )
    return out


def scale_checks(small: dict[str, Result], large: dict[str, Result]) -> list[Check]:
    out = []
    for key in ("first", "deep", "big"):
        a, b = small[key], large[key]
        for metric in ("p50_ms", "p99_ms"):
            ratio = getattr(b, metric) / getattr(a, metric)
            out.append(at_most(f"{a.scenario} {metric} large/small <=", ratio, SCALE_MAX_RATIO))
        out.append(at_most(f"{a.scenario} req/s small/large <=", a.rps / b.rps, SCALE_MAX_RATIO))
    return out


# -- the run ------------------------------------------------------------------------


def run_size(
    args: argparse.Namespace, data_dir: Path, total: int, log_path: Path, mlflow_work: Path | None
) -> tuple[SeedReport, dict[str, Result]] | None:
    """One project size; with ``mlflow_work``, MLflow on the target job's data there too."""
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
            print(f"  EXPLAIN QUERY PLAN {label}: {short_sql(statement)}")
            for line in plan:
                print(f"      {line}")

    scenarios = {
        "first": Scenario(f"per_page=10&page=1{rate_label(args.rate)}", 10, 1, args.rate),
        "deep": Scenario(
            f"per_page=10&page={args.deep_page}{rate_label(args.rate)}",
            10,
            args.deep_page,
            args.rate,
        ),
        "big": Scenario(
            f"per_page=1000&page=1{rate_label(args.big_rate)}, {args.big_clients} cl",
            1000,
            1,
            args.big_rate,
        ),
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
            clients = args.big_clients if key == "big" else args.clients
            result = measure(
                target, sc, clients, args.seconds, args.warmup, args.client, server.pid
            )
            result.response_bytes = size
            results[key] = result
            print(f"  {sc.name}: {result.requests} requests in {result.seconds:.1f} s", flush=True)
        if mlflow_work is not None:
            side = page_target(server, path, scenarios["first"])
            results.update(
                side_by_side(args, side, server.pid, mlflow_work, report.target_versions)
            )
            results["side_trainjobs"].response_bytes = results["first"].response_bytes
    finally:
        server.stop()
    print_results(
        f"{total:,} versions, {args.clients} clients ({args.big_clients} for per_page=1000), "
        f"{args.seconds:g} s each",
        [r for k, r in results.items() if not k.startswith("side_")],
    )
    if not args.rate:
        rps, n = results["first"].rps, args.clients
        print(
            f"closed loop: latency ~ clients / throughput ({n} / {rps:.0f} req/s "
            f"= {n / rps * 1000:.1f} ms); a p50 of {FIRST_PAGE_P50_MS:g} ms "
            f"with {n} clients needs {n * 1000 / FIRST_PAGE_P50_MS:,.0f} req/s"
        )
    print_checks("targets", checks_for(results, args.big_clients))
    if "side_mlflow" in results:
        print_side_by_side(results["side_trainjobs"], results["side_mlflow"], MLFLOW_MIN_RATIO)
    return report, results


def _db_size_mib(data_dir: Path) -> float:
    return sum(p.stat().st_size for p in data_dir.glob("trainjobs.db*")) / 2**20


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
        "--big-clients", type=int, default=BIG_PAGE_CLIENTS, help="for the per_page=1000 run"
    )
    p.add_argument(
        "--mlflow",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"measure MLflow {MLFLOW_VERSION}'s runs/search on the same data (default: when it "
        "can be installed; --mlflow: fail if it cannot)",
    )
    p.add_argument(
        "--mlflow-rounds",
        type=int,
        default=4,
        help="side by side: alternating rounds of trainjobs and MLflow, --seconds in all each",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=default_cache(),
        metavar="DIR",
        help="where MLflow's virtual environment is made once and reused (default: %(default)s)",
    )
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
    if args.mlflow_rounds < 1 or args.big_clients < 1:
        p.error("--mlflow-rounds and --big-clients: 1 or more")
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
    mlflow_work = (
        data_dir / "mlflow-baseline" if args.keep is not None else data_dir.parent / "mlflow"
    )
    args.mlflow_venv = (
        None if args.mlflow is False else mlflow_venv(args.cache, args.mlflow is True)
    )
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
            baseline = args.mlflow_venv is not None and not measured
            done = run_size(args, data_dir, total, log_path, mlflow_work if baseline else None)
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
