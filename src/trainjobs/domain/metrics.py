"""The shapes of ``model_metric_list`` and ``system_metric_list`` (JSON held in strings)."""

from __future__ import annotations

import json

SYSTEM_SERIES = (
    "cpuUsage",
    "memUsage",
    "gpuUtil",
    "gpuMemUsage",
    "diskReadRate",
    "diskWriteRate",
    "recvBytesRate",
    "sendBytesRate",
)

EMPTY_MODEL_METRICS = json.dumps(
    {
        "metric": [],
        "total_metric": {
            "total_metric_meta": {},
            "total_reserved_data": {},
            "total_metric_values": {},
        },
    },
    separators=(",", ":"),
)

# interval: minutes between points; one point a second to begin with.
DEFAULT_INTERVAL_MIN = round(1 / 60, 4)

EMPTY_SYSTEM_METRICS = json.dumps(
    {**{name: [] for name in SYSTEM_SERIES}, "interval": DEFAULT_INTERVAL_MIN},
    separators=(",", ":"),
)


class InvalidModelMetrics(ValueError):
    pass


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidModelMetrics(f"{where} must be a number")
    return float(value)


def normalize_model_metrics(data: object) -> str:
    """Check a reported ``model_metric_list`` object; return its compact JSON text."""
    if not isinstance(data, dict):
        raise InvalidModelMetrics("the file must hold a JSON object")
    metric = data.get("metric", [])
    total = data.get("total_metric", {})
    if not isinstance(metric, list) or not isinstance(total, dict):
        raise InvalidModelMetrics("'metric' must be a list and 'total_metric' an object")
    for i, item in enumerate(metric):
        if not isinstance(item, dict) or not isinstance(item.get("metric_values"), dict):
            raise InvalidModelMetrics(f"metric[{i}] needs a 'metric_values' object")
        for key, value in item["metric_values"].items():
            _number(value, f"metric[{i}].metric_values.{key}")
        if not isinstance(item.get("metric_meta", {}), dict):
            raise InvalidModelMetrics(f"metric[{i}].metric_meta must be an object")
    values = total.get("total_metric_values", {})
    if not isinstance(values, dict):
        raise InvalidModelMetrics("total_metric.total_metric_values must be an object")
    for key, value in values.items():
        _number(value, f"total_metric.total_metric_values.{key}")
    shaped = {
        "metric": [
            {
                "metric_values": item["metric_values"],
                "reserved_data": item.get("reserved_data", {}),
                "metric_meta": item.get("metric_meta", {}),
            }
            for item in metric
        ],
        "total_metric": {
            "total_metric_meta": total.get("total_metric_meta", {}),
            "total_reserved_data": total.get("total_reserved_data", {}),
            "total_metric_values": values,
        },
    }
    return json.dumps(shaped, separators=(",", ":"))


# ModelArts' own file: {"total_metric": {"total_metric_values": {"accuracy": 0.97}}}.
METRIC_JSON_FILE = "metric.json"
# Its keys, and their names in model_metric_list.
METRIC_JSON_KEYS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "f1_score",
    "f1_score": "f1_score",
}


def metric_json_to_model_metrics(data: object) -> str:
    """ModelArts' ``metric.json`` as a ``model_metric_list``: its accuracy, precision,
    recall and f1 (or f1_score) totals; metrics it does not give stay absent."""
    if not isinstance(data, dict):
        raise InvalidModelMetrics("the file must hold a JSON object")
    total = data.get("total_metric", {})
    values = total.get("total_metric_values") if isinstance(total, dict) else None
    if not isinstance(values, dict):
        raise InvalidModelMetrics(
            'it needs {"total_metric": {"total_metric_values": {"accuracy": ...}}}'
        )
    shaped: dict[str, float] = {}
    for key, value in values.items():
        name = METRIC_JSON_KEYS.get(str(key).lower())
        if name is not None:
            shaped[name] = _number(value, f"total_metric.total_metric_values.{key}")
    if not shaped:
        known = ", ".join(sorted(METRIC_JSON_KEYS))
        raise InvalidModelMetrics(f"total_metric_values holds none of {known}")
    return normalize_model_metrics({"metric": [], "total_metric": {"total_metric_values": shaped}})
