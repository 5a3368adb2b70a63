"""Waiting for a version to end, and reading its log as it grows, by polling the v1 API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from trainjobs.sdk.client import ApiClient, Id
from trainjobs.sdk.errors import ModelArtsError
from trainjobs.sdk.statuses import is_terminal

DEFAULT_POLL_S = 1.0
LOG_PAGE_LINES = 500  # the most aom-log returns in one call
WAIT_TIMEOUT = "trainjobs.wait_timeout"

OnVersion = Callable[[dict[str, Any], float], None]


def _pause(seconds: float, interrupted: threading.Event | None) -> None:
    """Sleep between two polls; a set ``interrupted`` ends the wait here, between
    requests, as a KeyboardInterrupt (see ``cli/output.py``'s ``deferred_interrupts``)."""
    if interrupted is None:
        time.sleep(seconds)
    elif interrupted.is_set() or interrupted.wait(seconds):
        raise KeyboardInterrupt


def wait_for_version(
    client: ApiClient,
    job_id: Id,
    version_id: Id,
    *,
    poll_s: float = DEFAULT_POLL_S,
    timeout_s: float | None = None,
    on_update: OnVersion | None = None,
    interrupted: threading.Event | None = None,
) -> dict[str, Any]:
    """Poll the version's details until its status is final; return the last details.

    ``on_update`` sees every poll's details and the seconds waited so far. Once
    ``interrupted`` is set, the wait ends with KeyboardInterrupt before the next poll.
    """
    started = time.monotonic()
    while True:
        version = client.get_version(job_id, version_id)
        elapsed = time.monotonic() - started
        if on_update is not None:
            on_update(version, elapsed)
        if is_terminal(int(version["status"])):
            return version
        if timeout_s is not None and elapsed >= timeout_s:
            raise ModelArtsError(
                WAIT_TIMEOUT,
                f"version {version_id} of job {job_id} is still running after {timeout_s:g} s",
            )
        _pause(poll_s, interrupted)


def first_log_file(client: ApiClient, job_id: Id, version_id: Id) -> str:
    names = client.log_file_names(job_id, version_id).get("log_file_list") or []
    if not names:
        raise ModelArtsError(
            "ModelArts.2818", f"version {version_id} of job {job_id} has no log files", 404
        )
    return str(names[0])


def read_log(
    client: ApiClient,
    job_id: Id,
    version_id: Id,
    log_file: str,
    *,
    follow: bool = False,
    poll_s: float = DEFAULT_POLL_S,
    on_update: OnVersion | None = None,
    after_line: int = 0,
    interrupted: threading.Event | None = None,
) -> Iterator[str]:
    """Yield the log's text from the line after ``after_line``, a page at a time.

    With ``follow`` it keeps polling for new lines until the version's status is
    final, then yields what was written last and stops. Once ``interrupted`` is
    set, following ends with KeyboardInterrupt before the next poll.
    """
    cursor = after_line  # the last line already yielded
    final = not follow
    started = time.monotonic()
    while True:
        page = client.aom_log(
            job_id, version_id, log_file, lines=LOG_PAGE_LINES, base_line=str(cursor)
        )
        count = int(page.get("lines") or 0)
        text = str(page.get("content") or "")
        if count:
            end = int(page["end_line"])
            if not final and not text.endswith("\n"):
                # The last line is still being written: hold it back until its
                # newline arrives rather than print half of it now.
                text = text[: text.rfind("\n") + 1]
                end -= 1
            if text:
                yield text
            moved = end > cursor
            cursor = max(cursor, end)
            if moved and count == LOG_PAGE_LINES:
                continue
        if final:
            return
        version = client.get_version(job_id, version_id)
        if on_update is not None:
            on_update(version, time.monotonic() - started)
        if is_terminal(int(version["status"])):
            final = True  # one more read drains what the run wrote last
            continue
        _pause(poll_s, interrupted)
