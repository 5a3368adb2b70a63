"""Run folders made ahead of need.

A version's run folder holds some ten folders: its code, data, outputs and
logs, its workers' records, and the scratch behind the first worker's /cache
and /tmp. Making them as the version starts puts every mkdir on the way from
submit to the run, and a mkdir is not always cheap: where the filesystem's
metadata has gone cold (a machine that reclaims page cache eagerly) each one
waits on a disk read. So one spare folder is kept made ahead, under a name no
version has; a starting version's folder is that spare renamed into place, one
step, and the next spare is made in the background once that version settled.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
from pathlib import Path

from trainjobs.domain.run_records import RunPaths

SPARE_PREFIX = ".spare-"  # never a version's folder name (those are version ids)


def make_layout(root: Path) -> None:
    """``root`` and the folders every run has in it."""
    paths = RunPaths(root)
    for folder in (paths.code, paths.data, paths.output, paths.logs, paths.workers):
        folder.mkdir(parents=True, exist_ok=True)
    for name in ("cache", "tmp"):
        (paths.scratch / "0" / name).mkdir(parents=True, exist_ok=True)


class SpareRunFolders:
    def __init__(self, runs_dir: Path) -> None:
        self._runs_dir = runs_dir
        self._lock = threading.Lock()
        self._spare: Path | None = None
        self._closed = False
        self._making = False

    def claim(self, root: Path) -> None:
        """Give a starting version its folder ``root``, unless it has one (a version
        started again after a restart keeps what it had)."""
        if os.path.lexists(root):
            return
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            try:
                os.rename(spare, root)  # fails, leaving root alone, if root appeared
                return
            except OSError:  # root appeared, or the spare went (removed from outside)
                shutil.rmtree(spare, ignore_errors=True)
        # Made here instead, around what is there; a failure (a full disk) shows
        # where the run's start writes into it.
        with contextlib.suppress(OSError):
            make_layout(root)

    def refill(self) -> None:
        """Make the next spare in the background, unless there is one or it is on its
        way: called once the version that took the last one settled (it ended, or
        ran a while), so that the mkdirs do not compete with its start."""
        with self._lock:
            if self._spare is not None or self._closed or self._making:
                return
            self._making = True
        threading.Thread(target=self._refill, name="spare-run-folder", daemon=True).start()

    def _refill(self) -> None:
        spare = self._runs_dir / f"{SPARE_PREFIX}{secrets.token_hex(8)}"
        try:
            make_layout(spare)
        except OSError:  # the data dir's disk is full or gone: versions make their own
            shutil.rmtree(spare, ignore_errors=True)
            with self._lock:
                self._making = False
            return
        with self._lock:
            self._making = False
            kept = self._spare is None and not self._closed
            if kept:
                self._spare = spare
        if not kept:
            shutil.rmtree(spare, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None:
            shutil.rmtree(spare, ignore_errors=True)
