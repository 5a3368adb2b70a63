"""What a run's supervisor keeps of a version: its folders, its record, its live state.

The supervisor's modules pass a ``RunVersion`` (built once from the version's
row) rather than the row itself, so only the store knows the table's shape.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from trainjobs import nofollow
from trainjobs.domain.scheduler import Resources, demand_of
from trainjobs.executors.base import RunHandle
from trainjobs.objectstore import ObjectStore


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def code(self) -> Path:
        """``user-job-dir``: the code folder is staged inside it under its own name,
        and runs start here, as ModelArts' launcher does."""
        return self.root / "user-job-dir"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def workers(self) -> Path:
        return self.root / "workers"

    @property
    def scratch(self) -> Path:
        """Behind each sandboxed worker's private /cache and /tmp (one folder per rank)."""
        return self.root / "scratch"


def log_file_name(job_name: str, version_name: str, rank: int) -> str:
    return f"{job_name}-{version_name}.{rank}"


def version_name(number: int) -> str:
    return f"V{number:04d}"


@dataclass(frozen=True)
class RunVersion:
    """The fields of a version that staging, running and publishing read."""

    id: int
    job_id: int
    number: int
    status: int
    start_time: int
    engine_id: int
    core: str
    cpu: str
    gpu_num: int
    pool_id: str
    worker_server_num: int
    app_url: str
    boot_file_url: str
    data_url: str
    train_url: str
    log_url: str
    dataset_id: str
    dataset_version_id: str
    data_source: str
    parameter: str
    volumes: str
    model_id: int
    user_command: str
    system_metric_list: str
    code_digest: str

    @classmethod
    def from_row(cls, row: sa.Row) -> RunVersion:
        return cls(**{f.name: getattr(row, f.name) for f in dataclasses.fields(cls)})


@dataclass
class ActiveRun:
    """A run this server holds, from launch (or adoption) to its final status."""

    version_id: int
    # The version as the request that created it wrote it, so that the run need
    # not read it back; None for a version launched from the database (a restart).
    created: CreatedVersion | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: bool = False
    deleted: bool = False
    handle: RunHandle | None = None
    thread: threading.Thread | None = None
    output: Path | None = None
    log0: Path | None = None
    metrics_seen: tuple[str, int] = ("", 0)  # the metrics file last read, and its mtime
    metrics_complaint: str = ""
    synced: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    over_memory: str = ""  # why the service ended the run, when it held it to its spec
    store: ObjectStore | None = None  # the version's project's namespace
    # Where the outputs are read when the workers' nodes upload them there (Ray
    # without shared storage) instead of writing the run folder's output.
    outputs_url: str = ""


@dataclass(frozen=True)
class CreatedVersion:
    version: RunVersion
    project_id: str
    job_name: str


def note(log_path: Path, message: str) -> None:
    """A line from the service in the run's log, where the user looks first.

    Never through a link the run left in its place (log folders are
    ``<run>/logs``); such a log goes without the line.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        nofollow.append_text(log_path.parents[1], log_path, f"[trainjobs] {message}\n")


def demand(version: RunVersion) -> Resources:
    return demand_of(version.core, version.cpu, version.gpu_num, version.worker_server_num)


def describe(wanted: Resources) -> str:
    gpus = f", {wanted.gpus} GPU(s)" if wanted.gpus else ""
    return f"{wanted.cores} core(s), {wanted.memory_gib:g} GiB{gpus}"


def int_or_one(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 1


def float_or_zero(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
