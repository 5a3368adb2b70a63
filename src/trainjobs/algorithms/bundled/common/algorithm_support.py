"""What every built-in algorithm shares: its arguments, its data files, its
TensorBoard event files and its metrics file.

Staged beside the algorithm's ``train.py``; it runs inside the version, with
the engine's interpreter, and imports only the standard library, numpy,
scikit-learn and (for event files) tensorboard.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

METRICS_FILE = "model_metrics.json"


def parse_args(defaults: dict[str, str], argv: Sequence[str] | None = None) -> dict[str, str]:
    """``--data_url``, ``--train_url`` and the algorithm's parameters, as strings."""
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--data_url", default="")
    parser.add_argument("--train_url", default="")
    for label, value in defaults.items():
        parser.add_argument(f"--{label}", default=value)
    known, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"ignoring unknown arguments: {' '.join(unknown)}", flush=True)
    values = {k: str(v) for k, v in vars(known).items()}
    if not values["train_url"]:
        values["train_url"] = os.environ.get("TRAINJOBS_TRAIN_URL", "output")
    if not values["data_url"]:
        values["data_url"] = os.environ.get("TRAINJOBS_DATA_URL", "")
    return values


def fail(message: str) -> None:
    """End the run with a message for its log, and a failed status."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def number(values: dict[str, str], label: str, kind: type, low: float, high: float) -> Any:
    text = values[label]
    try:
        value = kind(text)
    except ValueError:
        fail(f"--{label}={text} is not a {kind.__name__}")
    if not low <= value <= high:
        fail(f"--{label}={text} must be between {low} and {high}")
    return value


def files_under(folder: str, suffixes: Iterable[str]) -> list[Path]:
    """Regular files (links not followed) under ``folder`` with one of the suffixes, sorted."""
    root = Path(folder)
    if not folder or not root.is_dir():
        fail(f"the data folder '{folder}' is missing; give the version a data_url")
    wanted = tuple(s.lower() for s in suffixes)
    found = []
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(dirpath) / name
            if name.lower().endswith(wanted) and path.is_file() and not path.is_symlink():
                found.append(path)
    return sorted(found)


class Events:
    """Scalars in TensorBoard's event-file format, under ``<train_url>/events``."""

    def __init__(self, train_url: str) -> None:
        self._writer: Any = None
        try:
            from tensorboard.compat.proto.event_pb2 import Event
            from tensorboard.compat.proto.summary_pb2 import Summary
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            print("tensorboard is not installed: no event files", flush=True)
            return
        self._event, self._summary = Event, Summary
        self._writer = EventFileWriter(str(Path(train_url) / "events"))

    def scalar(self, tag: str, value: float, step: int) -> None:
        if self._writer is None:
            return
        summary = self._summary(value=[self._summary.Value(tag=tag, simple_value=float(value))])
        self._writer.add_event(self._event(wall_time=time.time(), step=step, summary=summary))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def write_metrics(
    train_url: str, per_class: list[dict[str, Any]], total: dict[str, float]
) -> None:
    """``model_metrics.json`` in ModelArts' ``model_metric_list`` shape (written atomically)."""
    shaped = {
        "metric": [
            {
                "metric_values": {k: round(float(item[k]), 4)
                                  for k in ("recall", "precision", "accuracy")},
                "reserved_data": {},
                "metric_meta": {"class_name": str(item["class_name"]),
                                "class_id": int(item["class_id"])},
            }
            for item in per_class
        ],
        "total_metric": {
            "total_metric_meta": {},
            "total_reserved_data": {},
            "total_metric_values": {k: round(float(v), 4) for k, v in total.items()},
        },
    }
    folder = Path(train_url)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (METRICS_FILE + ".tmp")
    tmp.write_text(json.dumps(shaped, indent=1))
    os.replace(tmp, folder / METRICS_FILE)


def classification_metrics(
    y_true: Any, y_pred: Any, class_names: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Per-class recall, precision and one-vs-rest accuracy; overall accuracy and macro figures."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = list(range(len(class_names)))
    precision, recall, _f1, _support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = []
    n = len(y_true)
    for i, name in enumerate(class_names):
        correct = sum(1 for t, p in zip(y_true, y_pred, strict=True) if (t == i) == (p == i))
        per_class.append({"class_id": i, "class_name": name, "precision": precision[i],
                          "recall": recall[i], "accuracy": correct / n if n else 0.0})
    macro_p, macro_r, macro_f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="macro", zero_division=0
    )
    total = {"accuracy": accuracy_score(y_true, y_pred), "precision": macro_p,
             "recall": macro_r, "f1_score": macro_f1}
    return per_class, total


def save_json(train_url: str, name: str, data: Any) -> None:
    path = Path(train_url) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
