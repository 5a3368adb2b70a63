"""System metrics of running process trees, sampled by one thread for all runs.

One pass a period reads the process table once and every tracked tree from
it, so the cost grows with the number of processes, not with runs x scans.
Each series is bounded: when it passes ``MAX_POINTS``, neighbouring points are
merged and the interval doubles (DECISIONS D12).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psutil

from trainjobs.executors.base import ProcessRef

log = logging.getLogger(__name__)

METRICS_SAMPLE_PERIOD_S = 1.0
MAX_POINTS = 120  # per series: ~7 KB of JSON a version, listed a thousand at a time
TREE_RESCAN_EVERY = 3
GIB = 1024**3
SERIES = (
    "cpuUsage",
    "memUsage",
    "gpuUtil",
    "gpuMemUsage",
    "diskReadRate",
    "diskWriteRate",
    "recvBytesRate",
    "sendBytesRate",
)


@dataclass
class Series:
    """Fixed-interval points, merged pairwise to stay under a cap."""

    base_period_s: float
    max_points: int = MAX_POINTS
    bucket_s: float = 0.0
    points: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in SERIES})
    _sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SERIES, 0.0))
    _count: int = 0
    _elapsed_s: float = 0.0

    def __post_init__(self) -> None:
        self.bucket_s = self.bucket_s or self.base_period_s

    def add(self, sample: dict[str, float], dt_s: float) -> None:
        for key in SERIES:
            self._sums[key] += sample.get(key, 0.0)
        self._count += 1
        self._elapsed_s += dt_s
        if self._elapsed_s + 1e-6 >= self.bucket_s:
            for key in SERIES:
                self.points[key].append(self._sums[key] / self._count)
            self._sums = dict.fromkeys(SERIES, 0.0)
            self._count = 0
            self._elapsed_s = 0.0
            if len(self.points["cpuUsage"]) > self.max_points:
                self._halve()

    def _halve(self) -> None:
        for key in SERIES:
            old = self.points[key]
            merged = [(old[i] + old[i + 1]) / 2 for i in range(0, len(old) - 1, 2)]
            if len(old) % 2:
                merged.append(old[-1])
            self.points[key] = merged
        self.bucket_s *= 2

    @classmethod
    def from_wire(cls, wire: dict[str, object], base_period_s: float) -> Series:
        """Continue a series recorded earlier (by a server that since restarted)."""
        series = cls(base_period_s)
        interval = wire.get("interval")
        if isinstance(interval, (int, float)) and interval > 0:
            series.bucket_s = max(base_period_s, float(interval) * 60)
        lengths = set()
        for key in SERIES:
            values = wire.get(key, [])
            if isinstance(values, list):
                series.points[key] = [float(v) for v in values]
            lengths.add(len(series.points[key]))
        if len(lengths) != 1:  # damaged: start afresh rather than misalign series
            return cls(base_period_s)
        return series

    def to_wire(self) -> dict[str, object]:
        """The ``system_metric_list`` object: decimal strings, interval in minutes."""
        wire: dict[str, object] = {k: [f"{v:.2f}" for v in self.points[k]] for k in SERIES}
        wire["interval"] = round(self.bucket_s / 60, 4)
        return wire


@dataclass
class _Tracked:
    roots: list[ProcessRef]
    cores: int
    gpus: int
    series: Series
    skip_roots: bool = False
    memory_limit_bytes: float = 0.0  # 0: none
    # Measures the run where it runs (other machines), instead of the local trees.
    probe: Callable[[], dict[str, float] | None] | None = None
    over_limit_reported: bool = False
    cpu_s: dict[int, float] = field(default_factory=dict)
    io: dict[int, tuple[int, int]] = field(default_factory=dict)
    procs: dict[int, psutil.Process] = field(default_factory=dict)


class _Gpus:
    """NVML, when a driver exists: per-process GPU memory and device utilisation."""

    def __init__(self) -> None:
        self.nvml = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml = pynvml
            self.handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
        except Exception:  # noqa: BLE001 - no driver or no library: GPU series stay zero
            self.nvml = None

    def usage(self) -> list[tuple[float, dict[int, int]]]:
        """Per GPU: utilisation percent and {pid: bytes used}."""
        if self.nvml is None:
            return []
        nv = self.nvml
        result = []
        for handle in self.handles:
            try:
                util = float(nv.nvmlDeviceGetUtilizationRates(handle).gpu)
                procs = nv.nvmlDeviceGetComputeRunningProcesses(handle)
                used = {p.pid: int(p.usedGpuMemory or 0) for p in procs}
            except Exception:  # noqa: BLE001 - a GPU that stops answering reads as idle
                util, used = 0.0, {}
            result.append((util, used))
        return result


class Sampler:
    def __init__(
        self,
        period_s: float = METRICS_SAMPLE_PERIOD_S,
        on_sample: Callable[[dict[str, Series]], None] | None = None,
        report_every: int = 5,
        on_over_memory: Callable[[str, float, float], None] | None = None,
    ) -> None:
        self.period_s = period_s
        self.on_sample = on_sample
        self.on_over_memory = on_over_memory
        self.report_every = report_every
        self._tracked: dict[str, _Tracked] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpus: _Gpus | None = None
        self._net: tuple[int, int] | None = None
        self._last = time.monotonic()
        self._children: dict[int, list[int]] | None = None
        self._passes = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="metrics-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def track(
        self,
        run_id: str,
        roots: Sequence[ProcessRef],
        cores: int,
        gpus: int,
        *,
        skip_roots: bool = False,
        series: Series | None = None,
        memory_limit_gib: float = 0.0,
        probe: Callable[[], dict[str, float] | None] | None = None,
    ) -> None:
        """Sample the trees under ``roots`` (without the roots themselves when
        ``skip_roots``: a supervising parent is not the run's load). A tree whose
        memory passes ``memory_limit_gib`` is reported once to ``on_over_memory``."""
        with self._lock:
            self._children = None  # a new tree: read the process table on the next pass
            self._tracked[run_id] = _Tracked(
                list(roots),
                max(1, cores),
                gpus,
                series or Series(self.period_s),
                skip_roots,
                memory_limit_gib * GIB,
                probe=probe,
            )

    def untrack(self, run_id: str) -> Series | None:
        with self._lock:
            tracked = self._tracked.pop(run_id, None)
        return tracked.series if tracked else None

    def series(self, run_id: str) -> Series | None:
        with self._lock:
            tracked = self._tracked.get(run_id)
        return tracked.series if tracked else None

    def _loop(self) -> None:
        ticks = 0
        while not self._stop.wait(self.period_s):
            try:
                self.sample_once()
                ticks += 1
                if self.on_sample is not None and ticks % self.report_every == 0:
                    with self._lock:
                        snapshot = {k: t.series for k, t in self._tracked.items()}
                    if snapshot:
                        self.on_sample(snapshot)
            except Exception:  # the sampler must outlive any one bad reading
                log.exception("metrics sampling failed")

    def sample_once(self) -> None:
        with self._lock:
            tracked = dict(self._tracked)
        now = time.monotonic()
        dt = max(1e-3, now - self._last)
        self._last = now
        net = psutil.net_io_counters()
        recv_rate = send_rate = 0.0
        if net is not None:
            if self._net is not None:
                recv_rate = max(0, net.bytes_recv - self._net[0]) / dt
                send_rate = max(0, net.bytes_sent - self._net[1]) / dt
            self._net = (net.bytes_recv, net.bytes_sent)
        if not tracked:
            return
        # The process table is the fixed cost of a pass: read it every few
        # passes only; trees rarely change shape faster than that.
        if self._children is None or self._passes % TREE_RESCAN_EVERY == 0:
            self._children = _children_map()
        self._passes += 1
        children = self._children
        if self._gpus is None:
            self._gpus = _Gpus()
        gpu_usage = self._gpus.usage()
        for run_id, run in tracked.items():
            if run.probe is not None:
                probed = run.probe()
                if probed is None:
                    continue
                sample = probed
            else:
                roots = [r.pid for r in run.roots]
                pids = _tree_pids(roots, children)
                if run.skip_roots:
                    pids = [p for p in pids if p not in roots]
                if not pids:  # not started yet, or already gone: nothing to measure
                    continue
                sample = self._measure(run, pids, dt, gpu_usage)
                sample["recvBytesRate"] = recv_rate
                sample["sendBytesRate"] = send_rate
            run.series.add(sample, dt)
            used = sample["memUsage"] * GIB
            over = run.memory_limit_bytes and used > run.memory_limit_bytes
            if over and not run.over_limit_reported and self.on_over_memory is not None:
                run.over_limit_reported = True
                self.on_over_memory(run_id, used / GIB, run.memory_limit_bytes / GIB)

    def _measure(
        self,
        run: _Tracked,
        pids: list[int],
        dt: float,
        gpu_usage: list[tuple[float, dict[int, int]]],
    ) -> dict[str, float]:
        cpu = mem = read = write = 0.0
        alive = set()
        for pid in pids:
            proc = run.procs.get(pid)
            if proc is None:
                try:
                    proc = run.procs[pid] = psutil.Process(pid)
                except psutil.NoSuchProcess:
                    continue
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss = proc.memory_info().rss
                    io = proc.io_counters() if hasattr(proc, "io_counters") else None
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            alive.add(pid)
            used = times.user + times.system
            cpu += max(0.0, used - run.cpu_s.get(pid, 0.0))
            run.cpu_s[pid] = used
            mem += rss
            if io is not None:
                last_read, last_write = run.io.get(pid, (0, 0))
                read += max(0, io.read_bytes - last_read)
                write += max(0, io.write_bytes - last_write)
                run.io[pid] = (io.read_bytes, io.write_bytes)
        for gone in set(run.procs) - alive:
            run.procs.pop(gone, None)
            run.cpu_s.pop(gone, None)
            run.io.pop(gone, None)
        gpu_util = gpu_mem = 0.0
        mine = set(pids)
        for util, used in gpu_usage:
            on_this = [b for pid, b in used.items() if pid in mine]
            if on_this:
                gpu_util += util
                gpu_mem += sum(on_this)
        return {
            "cpuUsage": min(100.0, cpu / dt / run.cores * 100),
            "memUsage": mem / GIB,
            "gpuUtil": gpu_util / max(1, run.gpus) if run.gpus else min(100.0, gpu_util),
            "gpuMemUsage": gpu_mem / GIB,
            "diskReadRate": read / dt,
            "diskWriteRate": write / dt,
        }


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, read straight from /proc (psutil's per-process
    objects cost three times as much for this one field)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    if not entries:
        for proc in psutil.process_iter(["ppid"]):
            children.setdefault(proc.info["ppid"] or 0, []).append(proc.pid)
        return children
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # ended while we looked
        # the command name may hold spaces and parentheses: split after the last ")"
        ppid = int(stat[stat.rindex(b")") + 2 :].split(b" ", 2)[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree_pids(roots: list[int], children: dict[int, list[int]]) -> list[int]:
    seen: list[int] = []
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.append(pid)
        with contextlib.suppress(KeyError):
            stack.extend(children[pid])
    return seen
