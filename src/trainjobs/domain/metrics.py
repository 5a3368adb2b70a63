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
