"""Ends of runs are noticed when they happen, not at the next poll."""

from __future__ import annotations

import os
import signal
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


def _standby_pid(executor: LocalExecutor) -> int:
    deadline = time.monotonic() + 60
    while True:
        ready = executor.standby._ready
        if ready is not None:
            return ready.pid
        assert time.monotonic() < deadline, "no parent was made ready for the next run"
        time.sleep(0.01)


def test_the_next_run_starts_under_a_parent_made_ready_before_it(tmp_path: Path) -> None:
    executor = LocalExecutor()
    try:
        first = executor.start(_spec(tmp_path, "first", "pass"))
        assert first.wait(timeout=60) is not None
        executor.ready_next()  # as the supervisor does once a run settled
        ready = _standby_pid(executor)
        second = executor.start(_spec(tmp_path, "second", "import os; print(os.getppid())"))
        outcome = second.wait(timeout=60)
        assert outcome is not None and outcome.succeeded
        # The waiting parent took the order: its pid is the one recorded, and the
        # worker's parent (the log is the one the order named).
        assert f'"pid": {ready},' in (tmp_path / "second" / "0.pid").read_text()
        assert (tmp_path / "second.0").read_text().strip() == str(ready)
        assert executor.standby._ready is None  # taken; the next is made when told
        executor.ready_next()
        spare = _standby_pid(executor)
        assert spare != ready
    finally:
        executor.close()
    # Closed, the executor leaves no waiting parent behind.
    assert executor.standby._ready is None
    deadline = time.monotonic() + 10
    while Path(f"/proc/{spare}").exists() and _state(spare) != "Z":
        assert time.monotonic() < deadline, "a waiting parent outlived its executor"
        time.sleep(0.01)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_run_starts_even_when_its_waiting_parent_was_killed(tmp_path: Path) -> None:
    executor = LocalExecutor()
    try:
        assert executor.start(_spec(tmp_path, "first", "pass")).wait(timeout=60) is not None
        executor.ready_next()
        os.kill(_standby_pid(executor), signal.SIGKILL)
        outcome = executor.start(_spec(tmp_path, "second", "print('ran')")).wait(timeout=60)
        assert outcome is not None and outcome.succeeded
        assert (tmp_path / "second.0").read_text().strip() == "ran"
    finally:
        executor.close()
