"""Waiting for processes to end without polling: one pidfd per process.

A pidfd becomes readable the moment its process ends, whether or not the
waiter is its parent, so the same wait serves workers this server started and
workers a previous server left running (adopted after a restart).
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Iterable

# Where pidfds are missing (kernels before 5.3), how often an exit is checked.
FALLBACK_POLL_S = 0.02


def open_exit_fd(pid: int) -> int | None:
    """A descriptor that turns readable when ``pid`` ends; None if the process
    is already gone or this kernel cannot give one."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


def close_exit_fd(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def wait_any(fds: Iterable[int | None], timeout: float | None) -> None:
    """Return when any of ``fds`` is readable (its process ended) or ``timeout``
    passed. A None among them (no pidfd for that process) makes this a short
    sleep, so the caller checks that process again soon."""
    wanted = list(fds)
    ready = [fd for fd in wanted if fd is not None]
    if len(ready) < len(wanted) or not ready:
        step = FALLBACK_POLL_S if timeout is None else min(timeout, FALLBACK_POLL_S)
        if ready:
            select.select(ready, [], [], step)
        else:
            time.sleep(max(0.0, step))
        return
    select.select(ready, [], [], timeout)
