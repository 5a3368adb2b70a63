"""A run's sandboxes are built before its code is staged and hold at their gate
until the go: what is staged meanwhile is there, and a run that never gets its
go never starts its worker, whoever calls it off."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sandbox_scripts import needs_bwrap
from trainjobs.executors import sandbox
from trainjobs.executors.base import Bind, RunSpec
from trainjobs.executors.base import WorkerSpec as Worker
from trainjobs.executors.local import LocalExecutor, PreparedLocalRun

pytestmark = needs_bwrap

DEADLINE_S = 60.0
# The worker leaves this in its output folder when it ran at all.
MARK = "open({out!r} + '/ran', 'w').write('ran')"


@pytest.fixture
def executor() -> Iterator[LocalExecutor]:
    ex = LocalExecutor(sandbox.Policy(enabled=True))
    yield ex
    ex.close()


def _spec(root: Path, code: str) -> RunSpec:
    folders = {name: root / name for name in ("code", "output", "logs")}
    worker = Worker(
        argv=[sys.executable, "-c", code.format(out=str(folders["output"]))],
        cwd=folders["code"],
        log_path=folders["logs"] / "worker.0",
        binds=(
            Bind(folders["code"], folders["code"], own=True),
            Bind(folders["output"], folders["output"], own=True),
            Bind(folders["logs"], folders["logs"], read_only=True),
        ),
        scratch=root / "scratch" / "0",
    )
    return RunSpec(run_id=root.name, workers=[worker], state_dir=root / "workers")


def _tree(prepared: PreparedLocalRun) -> list[psutil.Process]:
    """The parent and its sandbox, once the sandbox holds at its gate."""
    parent = psutil.Process(prepared.processes[0].pid)
    deadline = time.monotonic() + DEADLINE_S
    while True:
        tree = [parent, *parent.children(recursive=True)]
        if any("trainjobs-gate" in " ".join(_cmdline(p)) for p in tree):
            return tree
        assert time.monotonic() < deadline, "the sandbox never reached its gate"
        time.sleep(0.01)


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _all_end(tree: list[psutil.Process]) -> None:
    _gone, alive = psutil.wait_procs(tree, timeout=DEADLINE_S)
    assert not alive, f"still running after the run was called off: {alive}"


def test_the_worker_runs_the_code_staged_after_its_sandbox_was_built(
    tmp_path: Path, executor: LocalExecutor
) -> None:
    spec = _spec(tmp_path, "import runpy; runpy.run_path('boot.py')")
    prepared = executor.prepare(spec)
    _tree(prepared)  # built and held, before any code is there
    boot = spec.workers[0].cwd / "boot.py"
    boot.write_text(
        "import os\n"
        "try:\n"
        "    os.fstat(3)\n"
        "    print('gate open')\n"
        "except OSError:\n"
        "    print('gate closed')\n"
        "print('uid', os.getuid())\n"
        f"{MARK.format(out=str(tmp_path / 'output'))}\n"
    )
    outcome = prepared.begin().wait(timeout=DEADLINE_S)
    log = spec.workers[0].log_path.read_text()
    assert outcome is not None and outcome.succeeded, log
    assert (tmp_path / "output" / "ran").read_text() == "ran"
    # The worker holds nothing of its gate, and runs as the run's user when the
    # server is root (not as root).
    assert "gate closed" in log, log
    if os.geteuid() == 0:
        assert "uid 0" not in log, log


def test_a_discarded_run_never_starts_its_worker(tmp_path: Path, executor: LocalExecutor) -> None:
    prepared = executor.prepare(_spec(tmp_path, MARK))
    tree = _tree(prepared)
    prepared.discard()
    _all_end(tree)
    assert not (tmp_path / "output" / "ran").exists()


def test_a_killed_parent_leaves_its_held_worker_unstarted(
    tmp_path: Path, executor: LocalExecutor
) -> None:
    prepared = executor.prepare(_spec(tmp_path, MARK))
    tree = _tree(prepared)
    os.kill(prepared.processes[0].pid, signal.SIGKILL)
    # The gate's pipe closed with its parent: the sandbox ends without the worker.
    _all_end(tree)
    assert not (tmp_path / "output" / "ran").exists()
    prepared.discard()
