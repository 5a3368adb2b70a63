"""Stored rows as the console shows them: status words, times, parameters, metrics, diffs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trainjobs.domain.configs import default_train_url
from trainjobs.domain.jobs import effective_duration
from trainjobs.domain.metrics import SYSTEM_SERIES
from trainjobs.domain.runner import version_name
from trainjobs.domain.statuses import Status

# Status groups, for colour: what is going on, what went well, what did not.
ACTIVE_TONE = {Status.INIT, Status.WAITING, Status.RUNNING, Status.KILLING, Status.SCALING}
GOOD_TONE = {Status.COMPLETED, Status.CHECK_RUNNING_COMPLETED}
STOPPED_TONE = {Status.KILLED, Status.CANCELED}

# The statuses trainjobs produces, for the jobs page's filter.
FILTER_STATUSES = (
    Status.INIT,
    Status.WAITING,
    Status.RUNNING,
    Status.KILLING,
    Status.COMPLETED,
    Status.FAILED,
    Status.KILLED,
    Status.CANCELED,
    Status.LOST,
)

# Configuration fields shown for a version and compared between versions, with labels.
CONFIG_FIELDS = (
    ("engine", "Engine"),
    ("spec_code", "Spec"),
    ("worker_server_num", "Workers"),
    ("pool_name", "Pool"),
    ("app_url", "Code folder"),
    ("boot_file_url", "Boot file"),
    ("data_url", "Data"),
    ("dataset", "Dataset"),
    ("train_url", "Output (train_url)"),
    ("log_url", "Log output"),
    ("user_image_url", "Image"),
    ("user_command", "Command"),
    ("model_id", "Model"),
)

SERIES_LABELS = {
    "cpuUsage": ("CPU", "%"),
    "memUsage": ("Memory", "GiB"),
    "gpuUtil": ("GPU utilisation", "%"),
    "gpuMemUsage": ("GPU memory", "GiB"),
    "diskReadRate": ("Disk read", "B/s"),
    "diskWriteRate": ("Disk write", "B/s"),
    "recvBytesRate": ("Network received", "B/s"),
    "sendBytesRate": ("Network sent", "B/s"),
}


def status_name(status: int) -> str:
    try:
        return Status(status).name.replace("_", " ").title()
    except ValueError:
        return f"Status {status}"


def status_tone(status: int) -> str:
    try:
        s = Status(status)
    except ValueError:
        return "muted"
    if s in ACTIVE_TONE:
        return "active"
    if s in GOOD_TONE:
        return "good"
    if s in STOPPED_TONE:
        return "muted"
    return "bad"


def is_active(status: int) -> bool:
    try:
        return Status(status).is_active
    except ValueError:
        return False


def clock(ms: int) -> str:
    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def span(ms: int) -> str:
    """A duration as people read it: 42s, 3m 05s, 2h 10m."""
    if ms <= 0:
        return "—"
    s = ms // 1000
    if s < 60:
        return f"{s}s" if s else f"{ms}ms"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def cores(count: object) -> str:
    return f"{count} core" if str(count) == "1" else f"{count} cores"


def parameters(row: Any) -> list[tuple[str, str]]:
    try:
        items = json.loads(row.parameter)
    except (TypeError, ValueError):
        return []
    return [(str(p.get("label", "")), str(p.get("value", ""))) for p in items]


@dataclass(frozen=True)
class ModelMetrics:
    total: dict[str, float]
    per_class: list[tuple[str, dict[str, float]]]  # class name, values

    @property
    def class_keys(self) -> list[str]:
        return ordered(k for _, values in self.per_class for k in values)


def model_metrics(row: Any) -> ModelMetrics:
    try:
        data = json.loads(row.model_metric_list)
    except (TypeError, ValueError):
        return ModelMetrics({}, [])
    total = data.get("total_metric", {}).get("total_metric_values", {}) or {}
    classes = []
    for item in data.get("metric", []) or []:
        meta = item.get("metric_meta", {}) or {}
        name = str(meta.get("class_name", meta.get("class_id", "")))
        classes.append((name, dict(item.get("metric_values", {}) or {})))
    return ModelMetrics(dict(total), classes)


def system_series(row: Any) -> dict[str, Any]:
    """The resource-usage series as numbers, with the minutes between points."""
    try:
        data = json.loads(row.system_metric_list)
    except (TypeError, ValueError):
        data = {}
    out: dict[str, Any] = {"interval": float(data.get("interval") or 0) or 1 / 60}
    for key in SYSTEM_SERIES:
        values: list[float | None] = []
        for v in data.get(key, []) or []:
            try:
                values.append(float(v))
            except (TypeError, ValueError):
                values.append(None)
        out[key] = values
    return out


def ordered(keys: Iterable[str]) -> list[str]:
    """Distinct keys in first-seen order."""
    return list(dict.fromkeys(keys))


def default_output(row: Any, job_name: str) -> bool:
    """Whether the version writes to its own default output folder (a per-version path
    that is "the default" in every version, not a changed setting)."""
    return bool(row.train_url == default_train_url(job_name, version_name(row.number)))


def config_values(row: Any) -> dict[str, str]:
    engine = f"{row.engine_name} {row.engine_version}".strip()
    dataset = " / ".join(x for x in (row.dataset_name, row.dataset_version_name) if x)
    values = {
        "engine": engine,
        "spec_code": f"{row.spec_code} ({cores(row.core)}, {row.cpu} GiB"
        + (f", {row.gpu_num} × {row.gpu_type or 'GPU'}" if row.gpu_num else "")
        + ")",
        "worker_server_num": str(row.worker_server_num),
        "pool_name": row.pool_name,
        "app_url": row.app_url,
        "boot_file_url": row.boot_file_url,
        "data_url": row.data_url,
        "dataset": dataset,
        "train_url": row.train_url,
        "log_url": row.log_url,
        "user_image_url": row.user_image_url,
        "user_command": row.user_command,
        "model_id": str(row.model_id) if row.model_id else "",
    }
    return values


@dataclass(frozen=True)
class ConfigRow:
    label: str
    value: str
    origin: str  # "inherited", "changed", "" (no parent to compare with)


def config_rows(row: Any, parent: Any | None, job_name: str) -> list[ConfigRow]:
    """A version's configuration, each field marked inherited or changed against the
    version it was made from."""
    mine = config_values(row)
    theirs = config_values(parent) if parent is not None else None
    if theirs is not None and default_output(row, job_name) and default_output(parent, job_name):
        theirs["train_url"] = mine["train_url"]
    rows = []
    for key, label in CONFIG_FIELDS:
        value = mine[key]
        if not value and (theirs is None or not theirs[key]):
            continue
        origin = ""
        if theirs is not None:
            origin = "inherited" if theirs[key] == value else "changed"
        rows.append(ConfigRow(label, value, origin))
    return rows


def parameter_rows(row: Any, parent: Any | None) -> list[ConfigRow]:
    mine = parameters(row)
    theirs = dict(parameters(parent)) if parent is not None else None
    rows = []
    for label, value in mine:
        origin = ""
        if theirs is not None:
            origin = "inherited" if theirs.get(label) == value else "changed"
        rows.append(ConfigRow(label, value, origin))
    return rows


@dataclass(frozen=True)
class DiffRow:
    label: str
    values: list[str]
    differs: bool


def side_by_side(
    labels: Sequence[tuple[str, str]],
    columns: Sequence[dict[str, str]],
    same: frozenset[str] = frozenset(),
) -> list[DiffRow]:
    """One row per key, one value per version; ``differs`` when they are not all equal
    (keys in ``same`` are known to be alike however they read)."""
    rows = []
    for key, label in labels:
        values = [c.get(key, "") for c in columns]
        if not any(values):
            continue
        rows.append(DiffRow(label, values, key not in same and len(set(values)) > 1))
    return rows


def metric_text(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.4g}"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Listed:
    """A row of the versions table, from a listing's summary row."""

    id: int
    name: str
    status: int
    duration_ms: int
    create_time: int
    engine: str
    resources: str
    workers: int
    params: dict[str, str]
    metrics: dict[str, float]

    def summary(self) -> dict[str, Any]:
        """What the versions page refreshes of the row without reloading."""
        return {
            "id": self.id,
            "status": self.status,
            "status_name": status_name(self.status),
            "tone": status_tone(self.status),
            "active": is_active(self.status),
            "duration": span(self.duration_ms),
            "metrics": {k: metric_text(v) for k, v in self.metrics.items()},
        }


def listed(row: Any, now: int) -> Listed:
    snap = json.loads(row.snapshot)
    resources = f"{cores(snap.get('core', ''))} · {snap.get('cpu', '')} GiB"
    if snap.get("gpu_num"):
        resources += f" · {snap['gpu_num']} GPU"
    return Listed(
        id=row.id,
        name=str(snap.get("version_name", "")),
        status=row.status,
        duration_ms=effective_duration(row.status, row.start_time, row.duration, now),
        create_time=int(snap.get("create_time", 0)),
        engine=f"{snap.get('engine_name', '')} {snap.get('engine_version', '')}".strip(),
        resources=resources,
        workers=int(snap.get("worker_server_num", 1)),
        params={
            str(p.get("label", "")): str(p.get("value", "")) for p in snap.get("parameter", [])
        },
        metrics=model_metrics(row).total,
    )
