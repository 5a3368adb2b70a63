"""Timings of launches, and the bare launches a version's are compared with:
the interpreter started directly, and the same inside the sandbox a worker gets."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
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


def bare_launch(runs: int) -> Timings:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        seconds.append(time.perf_counter() - started)
    return Timings("bare subprocess.run(python -c pass)", seconds)


def sandboxed_launch(runs: int, root: Path | None = None) -> Timings:
    """The same bare launch inside the sandbox a run's worker gets (its binds, its user)."""
    from trainjobs.executors import sandbox
    from trainjobs.executors.base import Bind, WorkerSpec

    policy = sandbox.Policy(enabled=True)
    seconds = []
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
        for _ in range(runs):
            started = time.perf_counter()
            # What the executor does per worker: prepare the folders, build the line, run it.
            sandbox.prepare(policy, worker)
            command = sandbox.bwrap_command(policy, worker, worker.argv)
            subprocess.run(command, check=True, env=sandbox.environment({}, policy))
            seconds.append(time.perf_counter() - started)
    return Timings("sandboxed (bwrap) python -c pass", seconds)
