"""Timed page reads of the generated log through ``logfiles.window`` in this
process (bench/log_page.py), each page checked, and the memory they take."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _log_fixture import check

from trainjobs.executors import logfiles


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_kib(field: str, pid: int | str = "self") -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1])
    return 0


@dataclass
class Case:
    name: str
    lines: int
    base: Callable[[int], int | None]  # from the file's line count
    descending: bool

    def span(self, total: int, base: int | None) -> tuple[int, int]:
        if base is None:
            return max(1, total - self.lines + 1), total
        if self.descending:
            return base + 1, min(total, base + self.lines)
        return max(1, base - self.lines), base - 1


def cases(rng: random.Random) -> list[Case]:
    return [
        Case("last 50 (no base_line)", 50, lambda t: None, True),
        Case("middle 50 desc", 50, lambda t: t // 2, True),
        Case("near start 50 desc", 50, lambda t: 100, True),
        Case("before end 50 asc", 50, lambda t: t, False),
        Case("random 50 desc", 50, lambda t: rng.randrange(0, t - 50), True),
        Case("last 500", 500, lambda t: None, True),
        Case("middle 500 desc", 500, lambda t: t // 2, True),
        Case("random 500 desc", 500, lambda t: rng.randrange(0, t - 500), True),
    ]


def timed_read(path: Path, case: Case, total: int) -> tuple[float, float]:
    """(wall ms, CPU ms) of one checked read."""
    base = case.base(total)
    c0, w0 = time.thread_time(), time.perf_counter()
    window, count = logfiles.window(path, case.lines, base, case.descending, path.parent)
    w1, c1 = time.perf_counter(), time.thread_time()
    if count != total:
        raise AssertionError(f"line count {count}, wanted {total}")
    check(window, *case.span(total, base))
    return (w1 - w0) * 1000, (c1 - c0) * 1000


def evict(path: Path) -> None:
    """Drop the file's pages from the page cache (no root needed)."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def first_read(path: Path, total: int, drop_index: bool, drop_cache: bool) -> float:
    logfiles.forget([path])
    if drop_index:
        path.with_name(path.name + logfiles.INDEX_SUFFIX).unlink(missing_ok=True)
    if drop_cache:
        evict(path)
    wall, _ = timed_read(path, cases(random.Random(0))[0], total)
    return wall
