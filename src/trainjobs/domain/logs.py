"""A version's log files: their names, and pages of lines by cursor (DECISIONS D22, D23)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import BinaryIO

from trainjobs.domain import errors
from trainjobs.domain.jobs import JobService
from trainjobs.domain.runner import log_file_name, version_name
from trainjobs.executors import logfiles


@dataclass(frozen=True)
class LogPage:
    content: str
    lines: int
    start_line: int
    end_line: int


class LogReader:
    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    def file_names(self, project_id: str, job_id: int, version_id: int) -> list[str]:
        found = self.jobs.get_version(project_id, job_id, version_id)
        job, row = found.job, found.versions[0]
        vname = version_name(row.number)
        return [log_file_name(job.job_name, vname, r) for r in range(row.worker_server_num)]

    def page(
        self,
        project_id: str,
        job_id: int,
        version_id: int,
        *,
        log_file: str,
        lines: int,
        base_line: int | None,
        descending: bool,
    ) -> LogPage:
        names = self.file_names(project_id, job_id, version_id)
        if log_file not in names:
            raise errors.LogFileNotFound(
                f"log file '{log_file}' does not belong to version {version_id}; "
                f"its files are {', '.join(names)}"
            )
        paths = self.jobs.runner.paths(version_id)
        window, total = logfiles.window(
            paths.logs / log_file, lines, base_line, descending, paths.root
        )
        if window.count:
            return LogPage(window.text, window.count, window.start_line, window.end_line)
        # Nothing in the window: the cursor stays where it was, so a reader
        # polling for new lines asks again from the same place.
        cursor = total if lines == 0 or base_line is None else base_line
        return LogPage("", 0, cursor, cursor)

    def open_file(self, project_id: str, job_id: int, version_id: int, log_file: str) -> BinaryIO:
        """One log file for download, opened without following a link the run may have
        put in place of its log folder or file."""
        names = self.file_names(project_id, job_id, version_id)
        if log_file not in names:
            raise errors.LogFileNotFound(
                f"log file '{log_file}' does not belong to version {version_id}; "
                f"its files are {', '.join(names)}"
            )
        folder = self.jobs.runner.paths(version_id).logs
        try:
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            raise errors.LogFileNotFound(f"log file '{log_file}' has no lines yet") from None
        try:
            fd = os.open(log_file, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        except OSError:
            raise errors.LogFileNotFound(f"log file '{log_file}' has no lines yet") from None
        finally:
            os.close(dir_fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise errors.LogFileNotFound(f"log file '{log_file}' is not a regular file")
        return os.fdopen(fd, "rb")
