"""Benchmark the CPU cost of the system-metrics sampler (executors/sampler.py).

Two measurements:

(a) in process: ``--runs-list`` run counts (default 0, 1, 5, 20, 50), each run a
    real process tree of two processes (a sleeping python and its sleeping
    python child), all tracked by one ``Sampler``; ``sample_once()`` is called
    ``--passes`` times, ``--interval`` seconds apart, and the wall and CPU time
    of each pass are reported with the CPU share that implies at the default
    1 s period. A short run of the sampler's own thread cross-checks it.

(b) end to end: ``trainjobs serve`` as a user starts it, first idle, then with
    ``--e2e-runs`` jobs RUNNING (each a sleeping boot file with one child); the
    server process's own CPU time (not its children's) is read over
    ``--seconds``, split by thread: the sampler is the busiest thread that
    existed before the runs, the run supervisors are the threads started with
    them. The same is repeated on a second server whose sampler never ticks
    (TRAINJOBS_METRICS_PERIOD_S huge) as a control.

    .venv/bin/python bench/sampler_cost.py            # full run, about 5 minutes
    .venv/bin/python bench/sampler_cost.py --quick    # a smoke run, under a minute
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from _sampler_load import create_runs, start_trees, stop_runs, stop_trees, upload_code
from _sampler_server import Window, cpu_of, serve, server_cpu, thread_cpu

from trainjobs.executors.sampler import METRICS_SAMPLE_PERIOD_S, Sampler

SAMPLER_OFF_PERIOD_S = 1e6  # the sampler thread waits this long before its first tick


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# -- (a) in process -------------------------------------------------------------


@dataclass
class PassStats:
    runs: int
    procs_on_machine: int
    wall_ms: list[float]
    cpu_ms: list[float]
    iter_ms: list[float]  # psutil.process_iter alone, the pass's fixed part

    def row(self) -> str:
        mean_cpu = statistics.fmean(self.cpu_ms)
        share = mean_cpu / (METRICS_SAMPLE_PERIOD_S * 1000) * 100
        return (
            f"{self.runs:>5} {self.procs_on_machine:>6} "
            f"{statistics.fmean(self.wall_ms):>9.3f} {pct(self.wall_ms, 99):>9.3f} "
            f"{mean_cpu:>9.3f} {pct(self.cpu_ms, 99):>9.3f} "
            f"{statistics.fmean(self.iter_ms):>9.3f} {share:>8.3f}%"
        )


HEADER = (
    f"{'runs':>5} {'procs':>6} {'wall_mean':>9} {'wall_p99':>9} {'cpu_mean':>9} "
    f"{'cpu_p99':>9} {'iter_cpu':>9} {'@1s':>9}\n"
    f"{'':>5} {'':>6} {'ms':>9} {'ms':>9} {'ms':>9} {'ms':>9} {'ms':>9} {'core':>9}"
)


def measure_passes(runs: int, passes: int, interval_s: float, warmup: int) -> PassStats:
    """``passes`` timed passes of one Sampler tracking ``runs`` trees."""
    trees = start_trees(runs, life_s=3600)
    try:
        sampler = Sampler()
        for i, ref in enumerate(trees.refs):
            sampler.track(f"run-{i}", [ref], cores=2, gpus=0)
        for _ in range(warmup):  # first passes create the psutil.Process objects
            sampler.sample_once()
        wall: list[float] = []
        cpu: list[float] = []
        iter_cpu: list[float] = []
        for _ in range(passes):
            time.sleep(interval_s)
            c0, w0 = time.thread_time(), time.perf_counter()
            sampler.sample_once()
            w1, c1 = time.perf_counter(), time.thread_time()
            wall.append((w1 - w0) * 1000)
            cpu.append((c1 - c0) * 1000)
        for _ in range(max(20, passes // 5)):  # the process-table read every pass makes
            time.sleep(interval_s)
            c0 = time.thread_time()
            for proc in psutil.process_iter(["ppid"]):
                _ = proc.info["ppid"]
            iter_cpu.append((time.thread_time() - c0) * 1000)
        # every tracked tree was seen whole
        for i in range(runs):
            series = sampler.series(f"run-{i}")
            assert series is not None
        procs = len(psutil.pids())
        return PassStats(runs, procs, wall, cpu, iter_cpu)
    finally:
        stop_trees(trees)


def thread_loop_check(runs: int, period_s: float, seconds: float) -> tuple[int, float]:
    """The sampler's own thread at ``period_s``: ticks and this process's CPU per tick (ms)."""
    trees = start_trees(runs, life_s=3600)
    try:
        sampler = Sampler(period_s=period_s)
        for i, ref in enumerate(trees.refs):
            sampler.track(f"run-{i}", [ref], cores=2, gpus=0)
        sampler.sample_once()
        ticks = 0

        def count(_: object) -> None:
            nonlocal ticks
            ticks += 1

        sampler.on_sample = count
        sampler.report_every = 1
        me = psutil.Process()
        c0 = cpu_of(me)
        sampler.start()
        time.sleep(seconds)
        sampler.stop()
        used = cpu_of(me) - c0
        return ticks, used / max(1, ticks) * 1000
    finally:
        stop_trees(trees)


def in_process(args: argparse.Namespace) -> None:
    print(f"\n== (a) in process: Sampler.sample_once(), {args.passes} passes per row, ", end="")
    print(f"{args.interval * 1000:.0f} ms apart; every run is a tree of 2 processes ==")
    print("cpu = thread_time of the pass; iter_cpu = psutil.process_iter(['ppid']) alone;")
    print("procs = processes on the machine; @1s = cpu_mean per default 1 s period\n")
    print(HEADER)
    rows: list[PassStats] = []
    for runs in args.runs_list:
        stats = measure_passes(runs, args.passes, args.interval, warmup=3)
        rows.append(stats)
        print(stats.row(), flush=True)
    fit = [(r.runs, statistics.fmean(r.cpu_ms)) for r in rows if r.runs > 0]
    if len(fit) >= 2:
        slope, intercept = statistics.linear_regression(*zip(*fit, strict=True))
        print(
            f"\nfit over runs > 0: cpu per pass = {intercept:.2f} ms + {slope:.3f} ms x runs "
            f"(fixed part mostly the process-table read: {len(psutil.pids())} processes now)"
        )
    runs = args.e2e_runs
    period = 0.1
    ticks, per_tick = thread_loop_check(runs, period, args.loop_seconds)
    print(
        f"\nsampler thread, {runs} runs, period {period} s for {args.loop_seconds:.0f} s: "
        f"{ticks} ticks, {per_tick:.3f} ms process CPU per tick "
        f"-> {per_tick / 10:.3f}% of a core at the 1 s period"
    )


# -- (b) end to end ---------------------------------------------------------------


@dataclass
class E2E:
    label: str
    idle: Window
    busy: Window
    threads: int
    procs: int


def end_to_end_once(args: argparse.Namespace, label: str, period: float | None) -> E2E:
    data_dir = Path(tempfile.mkdtemp(prefix="tj-sampler-"))
    try:
        upload_code(data_dir, life_s=args.seconds * 2 + 120)
        with serve(data_dir, period, args.e2e_runs) as server:
            time.sleep(2)  # let start-up work settle
            before = set(thread_cpu(psutil.Process(server.proc.pid)))
            idle = server_cpu(server, args.seconds, before)
            before = set(thread_cpu(psutil.Process(server.proc.pid)))
            created = create_runs(server, args.e2e_runs)
            trees = psutil.Process(server.proc.pid).children(recursive=True)
            server.descendants.update(p.pid for p in trees)
            time.sleep(3)  # a few ticks with every run tracked
            busy = server_cpu(server, args.seconds, before)
            nthreads = psutil.Process(server.proc.pid).num_threads()
            stop_runs(server, created)
        return E2E(label, idle, busy, nthreads, len(trees))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def end_to_end(args: argparse.Namespace) -> None:
    n = args.e2e_runs
    print(f"\n== (b) end to end: trainjobs serve, {n} RUNNING jobs, server CPU (its own ", end="")
    print(f"threads, not its children) over {args.seconds:.0f} s, % of one core ==\n")
    on = end_to_end_once(args, "sampler on (1 s)", None)
    off = end_to_end_once(args, "sampler off", SAMPLER_OFF_PERIOD_S)
    print(
        f"{'server':<17} {'idle':>6} {f'{n} runs':>8} {'delta':>6} {'top_old':>8} "
        f"{'new_thr':>8}  procs threads"
    )
    for r in (on, off):
        print(
            f"{r.label:<17} {r.idle.total_pct:>6.2f} {r.busy.total_pct:>8.2f} "
            f"{r.busy.total_pct - r.idle.total_pct:>6.2f} {r.busy.old_threads[0]:>8.2f} "
            f"{r.busy.new_threads_pct:>8.2f}  {r.procs:>5} {r.threads:>7}"
        )
    print(
        "top_old: the busiest thread that existed before the runs (the sampler, when on);\n"
        "new_thr: all threads started with the runs (one supervisor per run, polling "
        "its workers)"
    )
    share = (on.busy.total_pct - on.idle.total_pct) - (off.busy.total_pct - off.idle.total_pct)
    print(
        f"\nsampler thread with {n} runs: {on.busy.old_threads[0]:.2f}% of one core "
        f"(same thread with the sampler off: {off.busy.old_threads[0]:.2f}%)"
    )
    print(f"server delta, sampler on minus sampler off: {share:.2f}% of one core")
    print(
        f"run supervisors' wait loops with {n} runs: {on.busy.new_threads_pct:.2f}% "
        f"(sampler on), {off.busy.new_threads_pct:.2f}% (sampler off)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs-list", type=int, nargs="+", default=[0, 1, 5, 20, 50])
    parser.add_argument("--passes", type=int, default=200, help="sample_once calls per row")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between passes")
    parser.add_argument("--loop-seconds", type=float, default=5.0)
    parser.add_argument("--e2e-runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="server CPU window")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs_list = [0, 5]
        args.passes, args.loop_seconds, args.seconds, args.e2e_runs = 20, 1.0, 3.0, 3

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, {len(psutil.pids())} processes, "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; python {sys.version.split()[0]}, "
        f"psutil {psutil.__version__}; default period {METRICS_SAMPLE_PERIOD_S} s"
    )
    if not args.skip_in_process:
        in_process(args)
    if not args.skip_e2e:
        end_to_end(args)
    print(f"\nload after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
