"""What the v1 family's test modules share: unique names and a configuration's body."""

from __future__ import annotations

import uuid
from typing import Any


def name() -> str:
    return f"n{uuid.uuid4().hex[:10]}"


def config_body(config_name: str, **extra: Any) -> dict[str, Any]:
    return {"config_name": config_name, "config_desc": "tabular", "worker_server_num": 1,
            "model_id": 2, "spec_id": 1, "data_url": "/not-yet/there/",
            "parameter": [{"label": "label_column", "value": "diagnosis"},
                          {"label": "max_iter", "value": 20}], **extra}  # fmt: skip
