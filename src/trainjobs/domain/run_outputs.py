"""What a run leaves: its outputs and logs published to the object store, and the
model metrics it reports (read while it runs, and once more at its end)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainjobs import nofollow
from trainjobs.domain.metrics import (
    METRIC_JSON_FILE,
    metric_json_to_model_metrics,
    normalize_model_metrics,
)
from trainjobs.domain.run_records import ActiveRun, RunPaths, RunVersion, note
from trainjobs.executors.sampler import Series
from trainjobs.objectstore import parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.report import MODEL_METRICS_FILE


def model_metrics(run: ActiveRun, force: bool = False) -> str | None:
    """The run's reported model metrics, if the file changed since last read."""
    found = _metrics_in_store(run) if run.outputs_url else _metrics_in_folder(run)
    if found is None:
        return None
    name, stamp, read = found
    if (name, stamp) == run.metrics_seen and not force:
        return None
    run.metrics_seen = (name, stamp)
    raw = read()
    if raw is None:
        return None
    try:
        return METRICS_SHAPES[name](json.loads(raw))
    except (OSError, ValueError) as exc:
        complaint = f"{name} was not used: {exc}"
        if complaint != run.metrics_complaint and run.log0 is not None:
            run.metrics_complaint = complaint
            note(run.log0, complaint)
        return None


# trainjobs' own file wins over ModelArts' metric.json when a run writes both.
METRICS_SHAPES = {
    MODEL_METRICS_FILE: normalize_model_metrics,
    METRIC_JSON_FILE: metric_json_to_model_metrics,
}
_Found = tuple[str, int, Callable[[], bytes | None]]


def _metrics_in_folder(run: ActiveRun) -> _Found | None:
    """The metrics file in the run folder's output: (its name, a stamp, its reader)."""
    if run.output is None:
        return None
    for name in METRICS_SHAPES:
        try:  # the run's own file, not what a link of the run points at
            fd = nofollow.open_beneath(run.output.parent, run.output / name, os.O_RDONLY)
        except OSError:
            continue
        break
    else:
        return None
    try:
        stamp = os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)
    output = run.output

    def read() -> bytes | None:
        try:  # opened again, as carefully: the stamp alone decides whether to read
            return nofollow.read_bytes(output.parent, output / name)
        except OSError:
            return None

    return name, stamp, read


def _metrics_in_store(run: ActiveRun) -> _Found | None:
    """The metrics file the workers' nodes uploaded to ``train_url``."""
    store = run.store
    if store is None:
        return None
    for name in METRICS_SHAPES:
        try:
            path = parse_obs_path(run.outputs_url.rstrip("/") + "/" + name)
            info = store.fs.info(path.fs_path)
        except (OSError, ValueError, InvalidObsPath):
            continue
        if info.get("type") == "directory":
            continue
        changed = (info.get("size"), info.get("mtime"), info.get("LastModified"), info.get("ETag"))
        stamp = hash(str(changed))

        def read(fs_path: str = path.fs_path) -> bytes | None:
            try:
                return bytes(store.fs.cat_file(fs_path))
            except (OSError, ValueError):
                return None

        return name, stamp, read
    return None


def live_metric_updates(
    runs: dict[str, ActiveRun], snapshot: dict[str, Series]
) -> list[tuple[int, dict[str, Any]]]:
    """The fields each sampled run's version records: system and model metrics."""
    updates = []
    for run_id, series in snapshot.items():
        fields: dict[str, Any] = {
            "system_metric_list": json.dumps(series.to_wire(), separators=(",", ":"))
        }
        run = runs.get(run_id)
        model = model_metrics(run) if run is not None else None
        if model is not None:
            fields["model_metric_list"] = model
        updates.append((int(run_id), fields))
    return updates


def publish(run: ActiveRun, row: RunVersion, paths: RunPaths, log_paths: list[Path]) -> str:
    """Upload new or changed outputs and logs; the reason it failed, or ""."""
    store = run.store
    assert store is not None  # set when the run is loaded
    left_out: list[str] = []
    try:
        if row.train_url:
            state = run.synced.setdefault("output", {})
            url = parse_obs_path(row.train_url)
            store.sync(paths.output, url, state, within=paths.root, left_out=left_out)
        if row.log_url:
            state = run.synced.setdefault("logs", {})
            names = {p.name for p in log_paths}
            url = parse_obs_path(row.log_url)
            store.sync(paths.logs, url, state, names, paths.root, left_out)
    except (OSError, InvalidObsPath) as exc:
        message = f"uploading results failed: {exc}"
        note(log_paths[0], message)
        return message
    for rel in left_out:
        note(log_paths[0], f"{rel} was not uploaded: only plain files are, not links")
    return ""
