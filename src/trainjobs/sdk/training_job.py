"""``TrainingJob``: a handle on one version of a training job (or on a parameter
configuration), with the legacy SDK's calls on it.

``Estimator`` has the same calls, for an existing job named by its IDs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from trainjobs.sdk.client import Id
from trainjobs.sdk.errors import CLIENT_ERROR, InvalidArgument
from trainjobs.sdk.progress import StatusLine, format_duration
from trainjobs.sdk.session import Session
from trainjobs.sdk.statuses import status_name
from trainjobs.sdk.watch import first_log_file, read_log, wait_for_version

INVALID_PARAMETER = "ModelArts.0104"
MAX_LOG_LINES = 500  # aom-log's largest page
MAX_LOG_OFFSET = 2048  # the legacy get_job_log's bound on offset


class JobMethods:
    """The calls on one job or version, shared by ``Estimator`` and ``TrainingJob``."""

    session: Session
    job_id: Id | None
    version_id: Id | None
    config_name: str | None

    def _job(self) -> Id:
        if self.job_id is None or self.job_id == "":
            raise InvalidArgument(
                CLIENT_ERROR, "no job_id: construct it as Estimator(session, job_id=...)"
            )
        return self.job_id

    def _version(self) -> tuple[Id, Id]:
        job_id = self._job()
        if self.version_id is None or self.version_id == "":
            raise InvalidArgument(
                CLIENT_ERROR,
                "no version_id: construct it as Estimator(session, job_id=..., version_id=...)",
            )
        return job_id, self.version_id

    def get_job_info(self) -> dict[str, Any]:
        """The version's details (GET .../versions/{version_id})."""
        return self.session.client.get_version(*self._version())

    def update_job_description(self, description: str) -> dict[str, Any]:
        return self.session.client.update_job(self._job(), description)

    def get_job_log_file_list(self) -> dict[str, Any]:
        """``{"log_file_list": [...]}``, one file per worker."""
        return self.session.client.log_file_names(*self._version())

    def get_job_log(self, log_file: str, start_byte: int = 0, offset: int = 2048) -> dict[str, Any]:
        """A window of the log: ``content``, ``lines``, ``start_line``, ``end_line``.

        The v1 log is read by lines, so ``start_byte`` is the line to start after
        (0: from the top, -1: the newest lines) and ``offset`` how many lines to
        return: positive for the lines after ``start_byte``, negative for those
        before it, at most 500 either way.
        """
        if int(start_byte) < -1:
            raise InvalidArgument(INVALID_PARAMETER, "start_byte must be -1 or more")
        if not -MAX_LOG_OFFSET <= int(offset) <= MAX_LOG_OFFSET:
            raise InvalidArgument(INVALID_PARAMETER, "offset must be in [-2048, 2048]")
        lines = min(abs(int(offset)), MAX_LOG_LINES)
        base_line = "" if int(start_byte) == -1 else str(int(start_byte))
        order = "asc" if int(offset) < 0 else "desc"
        job_id, version_id = self._version()
        return self.session.client.aom_log(
            job_id, version_id, log_file, lines=lines, base_line=base_line, order=order
        )

    def get_job_version_info(self) -> dict[str, Any]:
        """The job with all its versions, newest first (GET .../versions)."""
        return self.session.client.list_versions(self._job())

    def get_job_version_object_list(self, is_show: bool = True) -> list[TrainingJob]:
        """One ``TrainingJob`` per version, newest first; ``is_show`` prints them as a table."""
        listed = self.get_job_version_info()
        versions = listed.get("versions", [])
        if is_show:
            table = Table("job_id", "version_id", "version_name", "status", "duration", "parameter")
            for v in versions:
                params = " ".join(f"{p['label']}={p['value']}" for p in v.get("parameter", []))
                table.add_row(
                    str(listed.get("job_id", "")),
                    str(v["version_id"]),
                    v.get("version_name", ""),
                    status_name(int(v["status"])),
                    format_duration(int(v.get("duration", 0))),
                    params,
                )
            Console().print(table)
        return [
            TrainingJob(
                self.session,
                listed.get("job_id", self._job()),
                v["version_id"],
                job_name=str(listed.get("job_name", "")),
                version_name=str(v.get("version_name", "")),
                status=int(v.get("status", 0)),
                create_time=int(v.get("create_time", 0)),
            )
            for v in versions
        ]

    def stop_job_version(self) -> dict[str, Any]:
        return self.session.client.stop_version(*self._version())

    def delete_job_version(self) -> dict[str, Any]:
        return self.session.client.delete_version(*self._version())

    def delete_job(self) -> dict[str, Any]:
        """Delete the whole job with all its versions."""
        return self.session.client.delete_job(self._job())

    def _config_name(self) -> str:
        if not self.config_name:
            raise InvalidArgument(
                CLIENT_ERROR, "no config_name: construct it as Estimator(session, config_name=...)"
            )
        return self.config_name

    def get_job_configs_info(self) -> dict[str, Any]:
        """The parameter configuration's details (GET training-job-configs/{config_name})."""
        return self.session.client.get_config(self._config_name())

    def delete_job_configs(self) -> dict[str, Any]:
        return self.session.client.delete_config(self._config_name())


class TrainingJob(JobMethods):
    """A handle on one version of a training job, as ``fit`` and
    ``create_job_version`` return it; or, with only ``config_name``, on a parameter
    configuration, as ``create_job_configs`` returns it."""

    def __init__(
        self,
        modelarts_session: Session,
        job_id: Id | None = None,
        version_id: Id | None = None,
        *,
        job_name: str = "",
        version_name: str = "",
        status: int = 0,
        create_time: int = 0,
        resource_id: str = "",
        config_name: str | None = None,
    ) -> None:
        self.session = modelarts_session
        self.job_id = job_id
        self.version_id = version_id
        self.config_name = config_name
        self.job_name = job_name
        self.version_name = version_name
        self.status = status
        self.create_time = create_time
        self.resource_id = resource_id

    @classmethod
    def from_created(cls, session: Session, created: Mapping[str, Any]) -> TrainingJob:
        return cls(
            session,
            created["job_id"],
            created.get("version_id"),
            job_name=str(created.get("job_name", "")),
            version_name=str(created.get("version_name", "")),
            status=int(created.get("status", 0)),
            create_time=int(created.get("create_time", 0)),
            resource_id=str(created.get("resource_id", "")),
        )

    def wait(self, timeout_s: float | None = None, show: bool = True) -> dict[str, Any]:
        """Block until the version ends; return its final details (a trainjobs addition).

        ``show`` prints a live status line and the final status with its duration.
        A run that ends FAILED or KILLED is not an error here: check ``status``.
        """
        job_id, version_id = self._version()
        client = self.session.client
        poll_s = self.session.poll_interval_s
        if not show:
            final = wait_for_version(client, job_id, version_id, poll_s=poll_s, timeout_s=timeout_s)
        else:
            started = time.monotonic()
            line = StatusLine(Console())
            with line:
                final = wait_for_version(
                    client, job_id, version_id, poll_s=poll_s, timeout_s=timeout_s, on_update=line
                )
            line.finish(final, time.monotonic() - started)
        self.status = int(final["status"])
        return final

    def read_log(self, log_file: str | None = None, follow: bool = False) -> str:
        """The whole log text of one worker (the first by default); with ``follow``,
        wait for the run to end first while collecting it (a trainjobs addition)."""
        job_id, version_id = self._version()
        client = self.session.client
        name = log_file or first_log_file(client, job_id, version_id)
        return "".join(
            read_log(
                client,
                job_id,
                version_id,
                name,
                follow=follow,
                poll_s=self.session.poll_interval_s,
            )
        )

    def __repr__(self) -> str:
        if self.config_name and self.job_id is None:
            return f"TrainingJob(config_name={self.config_name!r})"
        return (
            f"TrainingJob(job_id={self.job_id!r}, version_id={self.version_id!r}, "
            f"job_name={self.job_name!r}, version_name={self.version_name!r}, "
            f"status={self.status!r})"
        )
