"""Ending process trees: SIGTERM to every process, SIGKILL to what outlives the grace."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable

import psutil

from trainjobs.executors.base import ProcessRef

SANDBOX_TOOL = "bwrap"


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def find(ref: ProcessRef) -> psutil.Process | None:
    """The process if it still runs and is the one that was started (not a reused pid)."""
    try:
        proc = psutil.Process(ref.pid)
        if abs(proc.create_time() - ref.create_time) > 0.01:
            return None
        # A dead process nobody reaped (its parent died, and the init of a
        # container may not reap) is gone all the same.
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.NoSuchProcess:
        return None


def terminate_trees(roots: Iterable[int], grace_s: float) -> bool:
    """End each root with its descendants and their process groups.

    Descendants are collected before any signal, since a child whose parent
    dies is re-parented and can no longer be found from the root. Returns
    whether any process was alive to signal.
    """
    procs: dict[int, psutil.Process] = {}
    sandboxed: set[int] = set()
    for pid in roots:
        for proc in _tree(pid):
            procs[proc.pid] = proc
            if _is_sandbox(proc):
                sandboxed.add(pid)
    if not procs:
        return False
    for proc in procs.values():
        # A sandbox's own processes end when the worker inside does: a SIGTERM
        # would end them first and take away the worker's grace.
        if not _is_sandbox(proc):
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    for pid in set(roots) - sandboxed:
        # Workers lead their own session: grandchildren that escaped the
        # parent link are still in the group. (In a sandbox nothing escapes:
        # its PID namespace's first process adopts them, and it is in the tree.)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    _gone, alive = psutil.wait_procs(list(procs.values()), timeout=grace_s)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            proc.kill()
    for pid in roots:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    return True


def _is_sandbox(proc: psutil.Process) -> bool:
    try:
        return os.path.basename(proc.exe()) == SANDBOX_TOOL
    except (psutil.Error, OSError):
        return False


def create_time(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return 0.0
