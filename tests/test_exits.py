"""Ends of runs are noticed when they happen, not at the next poll."""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

from trainjobs.executors.base import RunSpec, WorkerSpec
from trainjobs.executors.local import LocalExecutor

# The interval at which the local executor used to look for ended workers.
FORMER_POLL_S = 0.2


def _spec(tmp_path: Path, name: str, code: str, workers: int = 1) -> RunSpec:
    return RunSpec(
        run_id=name,
        workers=[
            WorkerSpec(
                argv=[sys.executable, "-c", code], cwd=tmp_path, log_path=tmp_path / f"{name}.{r}"
            )
            for r in range(workers)
        ],
        state_dir=tmp_path / name,
    )


def _lag(tmp_path: Path, name: str) -> float:
    """Seconds from the worker parent's recorded exit to wait() returning."""
    run = LocalExecutor().start(_spec(tmp_path, name, "pass"))
    outcome = run.wait(timeout=60)
    returned = time.time()
    assert outcome is not None and outcome.succeeded, "a trivial worker did not end in 60 s"
    return returned - (tmp_path / name / "0.exit").stat().st_mtime


def test_a_worker_exit_is_noticed_at_once(tmp_path: Path) -> None:
    lags = [_lag(tmp_path, f"run{i}") for i in range(5)]
    # Polling every 200 ms made the median lag about 100 ms; an event makes it
    # the few ms the parent takes to exit.
    assert statistics.median(lags) < FORMER_POLL_S / 4, lags


def test_an_adopted_worker_exit_is_noticed_at_once(tmp_path: Path) -> None:
    executor = LocalExecutor()
    spec = _spec(tmp_path, "adopted", "import time; time.sleep(1)")
    started = executor.start(spec)
    deadline = time.monotonic() + 60
    while not (spec.state_dir / "0.pid").exists():  # the parent recorded itself
        assert time.monotonic() < deadline, "the worker's parent never wrote its pid"
        time.sleep(0.01)
    adopted = executor.adopt(spec.state_dir, 1)
    assert adopted is not None
    done = threading.Event()
    threading.Thread(target=lambda: (started.wait(), done.set()), daemon=True).start()
    outcome = adopted.wait(timeout=60)
    returned = time.time()
    assert outcome is not None and outcome.succeeded
    assert returned - (spec.state_dir / "0.exit").stat().st_mtime < FORMER_POLL_S
    assert done.wait(30), "the starting handle never saw its worker end"


def test_a_timeout_returns_none_while_workers_run(tmp_path: Path) -> None:
    run = LocalExecutor().start(_spec(tmp_path, "long", "import time; time.sleep(30)"))
    began = time.monotonic()
    assert run.wait(timeout=0.3) is None
    assert time.monotonic() - began < 10
    run.stop(grace_s=1)
    outcome = run.wait(timeout=30)
    assert outcome is not None and outcome.stopped
