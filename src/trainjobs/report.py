"""For training scripts: report model metrics to trainjobs.

A script writes ``model_metrics.json`` into its output folder (the
``--train_url`` it was given); the service reads it while the run goes on and
after it ends, and serves it as the version's ``model_metric_list``::

    from trainjobs.report import write_model_metrics

    write_model_metrics(
        args.train_url,
        per_class=[{"class_id": 0, "class_name": "cat", "precision": 0.9,
                    "recall": 0.8, "accuracy": 0.85}],
        total={"precision": 0.9, "recall": 0.8, "accuracy": 0.85, "f1_score": 0.847},
    )

The file holds the ModelArts shape itself, so a script that cannot import
this module may write it by hand:
``{"metric": [{"metric_values": {"recall", "precision", "accuracy"},
"reserved_data": {}, "metric_meta": {"class_name", "class_id"}}],
"total_metric": {"total_metric_meta": {}, "total_reserved_data": {},
"total_metric_values": {"f1_score", "recall", "precision", "accuracy"}}}``.
This module imports nothing outside the standard library.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

MODEL_METRICS_FILE = "model_metrics.json"
CLASS_VALUES = ("recall", "precision", "accuracy")
TOTAL_VALUES = ("f1_score", "recall", "precision", "accuracy")


def model_metrics(
    per_class: Iterable[Mapping[str, object]], total: Mapping[str, float]
) -> dict[str, object]:
    """The ``model_metric_list`` object for these figures."""
    metric = []
    for item in per_class:
        metric.append(
            {
                "metric_values": {k: float(item[k]) for k in CLASS_VALUES if k in item},  # type: ignore[arg-type]
                "reserved_data": {},
                "metric_meta": {
                    "class_name": item.get("class_name", item.get("class_id", "")),
                    "class_id": item.get("class_id", 0),
                },
            }
        )
    return {
        "metric": metric,
        "total_metric": {
            "total_metric_meta": {},
            "total_reserved_data": {},
            "total_metric_values": {k: float(total[k]) for k in TOTAL_VALUES if k in total},
        },
    }


def write_model_metrics(
    train_url: str | os.PathLike[str],
    per_class: Iterable[Mapping[str, object]],
    total: Mapping[str, float],
) -> Path:
    """Write (atomically, so a reader never sees half a file) and return the path."""
    folder = Path(train_url)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_METRICS_FILE
    tmp = folder / (MODEL_METRICS_FILE + ".tmp")
    tmp.write_text(json.dumps(model_metrics(per_class, total)))
    os.replace(tmp, path)
    return path
