"""Workers' logs from nodes without the server's run folders, relayed to the server.

Each worker's actor holds its log on its node; the server asks every actor for
what was written since the last time, through Ray (the channel it already uses
for exits and samples, so no other route to the server is opened), and appends
it to the worker's log file in its own run folder, where ``aom-log``,
``logs --follow`` and the upload to ``log_url`` read it. Only whole lines are
appended while the worker runs, so the service's own lines never split one of
the worker's. How much of each log was appended is kept in the state folder:
a restarted server goes on from there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trainjobs import nofollow

log = logging.getLogger(__name__)

LOG_PULL_S = 0.5
LOG_CHUNK_BYTES = 1 << 20
LOG_CALL_TIMEOUT_S = 10.0


def offset_file(state_dir: Path, rank: int) -> Path:
    return state_dir / f"{rank}.log-offset"


class LogRelay:
    """Pulls each worker's new log bytes from its actor into the server's log file."""

    def __init__(
        self,
        state_dir: Path,
        log_paths: Sequence[Path],
        actors: Callable[[], dict[int, Any]],
    ) -> None:
        self._state_dir = state_dir
        self._log_paths = list(log_paths)
        self._actors = actors
        self._offsets = {rank: _read_offset(state_dir, rank) for rank in range(len(log_paths))}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ray-logs", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._done.wait(LOG_PULL_S):
            self.pull(final=False)

    def finish(self) -> None:
        """Stop pulling, after one last pull of everything, partial lines too."""
        self._done.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=LOG_CALL_TIMEOUT_S * 2)
        self.pull(final=True)

    def pull(self, final: bool) -> None:
        import ray

        with self._lock:
            actors = self._actors()
            for rank, actor in sorted(actors.items()):
                while True:
                    offset = self._offsets.get(rank, 0)
                    try:
                        chunk = ray.get(
                            actor.log_chunk.remote(offset, LOG_CHUNK_BYTES),
                            timeout=LOG_CALL_TIMEOUT_S,
                        )
                    except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
                        break  # a lost actor: its exit says what happened
                    taken = chunk if final else _whole_lines(chunk)
                    if not taken:
                        break
                    if not self._append(rank, taken):
                        break
                    self._offsets[rank] = offset + len(taken)
                    _write_offset(self._state_dir, rank, self._offsets[rank])
                    if len(chunk) < LOG_CHUNK_BYTES:
                        break

    def _append(self, rank: int, data: bytes) -> bool:
        path = self._log_paths[rank]
        try:  # the server's log folder of the run: never through a link put there
            nofollow.append_bytes(path.parents[1], path, data)
        except OSError as exc:
            log.warning("could not append to %s: %s", path, exc)
            return False
        return True


def _whole_lines(chunk: bytes) -> bytes:
    """The chunk up to its last newline; a full chunk without one is taken whole
    (a line longer than a chunk would otherwise never be shown)."""
    end = chunk.rfind(b"\n")
    if end < 0:
        return chunk if len(chunk) >= LOG_CHUNK_BYTES else b""
    return chunk[: end + 1]


def _read_offset(state_dir: Path, rank: int) -> int:
    try:  # the run folder's state: read as every file of a run is, following no link
        return int(nofollow.read_bytes(state_dir.parent, offset_file(state_dir, rank)).strip())
    except (OSError, ValueError):
        return 0


def _write_offset(state_dir: Path, rank: int, offset: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with contextlib.suppress(OSError):
        fd = nofollow.open_beneath(state_dir.parent, offset_file(state_dir, rank), flags)
        with os.fdopen(fd, "w") as f:
            f.write(str(offset))
