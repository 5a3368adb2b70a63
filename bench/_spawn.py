"""Timings of launches, and the bare launches a version's are compared with:
the interpreter started directly, and the same inside the sandbox a worker gets."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Timings:
    name: str
    seconds: list[float]

    def row(self) -> str:
        ms = sorted(s * 1000 for s in self.seconds)
        if not ms:
            return f"{self.name:<38} (no samples)"
        return (
            f"{self.name:<38} n={len(ms):<4} p50={pct(ms, 50):8.1f} ms  "
            f"p90={pct(ms, 90):8.1f} ms  min={ms[0]:8.1f} ms  max={ms[-1]:8.1f} ms"
        )

    def summary(self) -> dict[str, float | int]:
        ms = sorted(s * 1000 for s in self.seconds)
        return {"n": len(ms), "p50_ms": pct(ms, 50), "p90_ms": pct(ms, 90)} if ms else {"n": 0}


def p50(timings: Timings) -> float:
    return pct(sorted(s * 1000 for s in timings.seconds), 50)


def pct(sorted_ms: list[float], pct: int) -> float:
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[pct - 1]


BARE_NAME = "bare subprocess.run(python -c pass)"
SANDBOXED_NAME = "sandboxed (bwrap) python -c pass"


def bare_once() -> float:
    """Seconds for one bare launch of the interpreter."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


@contextmanager
def sandboxed_once(root: Path | None = None) -> Iterator[Callable[[], float]]:
    """One bare launch inside the sandbox a run's worker gets (its binds, its user),
    prepared and built as the executor does, a call; in folders under ``root``."""
    from trainjobs.executors import sandbox
    from trainjobs.executors.base import Bind, WorkerSpec

    policy = sandbox.Policy(enabled=True)
    with tempfile.TemporaryDirectory(prefix="tj-sandbox-", dir=root) as tmp:
        run = Path(tmp) / "runs" / "1"
        folders = [run / name for name in ("code", "data", "output")]
        for folder in folders:
            folder.mkdir(parents=True)
        worker = WorkerSpec(
            argv=[sys.executable, "-c", "pass"],
            cwd=folders[0],
            log_path=run / "log",
            binds=tuple(Bind(f, f, own=True) for f in folders),
            scratch=run / "scratch" / "0",
        )

        def once() -> float:
            started = time.perf_counter()
            # What the executor does per worker: prepare the folders, build the line, run it.
            sandbox.prepare(policy, worker)
            command = sandbox.bwrap_command(policy, worker, worker.argv)
            subprocess.run(command, check=True, env=sandbox.environment({}, policy))
            return time.perf_counter() - started

        yield once
