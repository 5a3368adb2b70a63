"""The Open Telekom Cloud SDK's ModelArts v1 proxy (otcextensions, on openstacksdk),
unchanged, against the server: configurations, built-in models, visualization jobs."""

from __future__ import annotations

import time
import uuid
from typing import Any

import openstack
import pytest
from otcextensions import sdk as otc_sdk

from conftest import Server
from iam_helpers import make_user


def connect(server: Server, user: dict[str, Any], override: bool) -> Any:
    extra: dict[str, Any] = {}
    if override:
        extra["modelartsv1_endpoint_override"] = f"{server.base}/v1/{server.project_id}"
    conn = openstack.connection.Connection(
        auth_url=f"{server.base}/v3",
        username=user["name"],
        password=user["password"],
        user_domain_name=user["domain"],
        project_name="default",
        project_domain_name=user["domain"],
        region_name="local",
        identity_api_version="3",
        **extra,
    )
    otc_sdk.register_otc_extensions(conn)
    return conn


@pytest.mark.parametrize("override", [True, False], ids=["endpoint-override", "catalogue"])
def test_otcextensions_modelartsv1_flow(server: Server, override: bool) -> None:
    conn = connect(server, make_user(server), override)
    ma = conn.modelartsv1
    assert ma.get_endpoint().rstrip("/") == f"{server.base}/v1/{server.project_id}"

    models = list(ma.builtin_models())
    assert {m.model_name for m in models} >= {"image_classification", "tabular_regression"}

    name = f"otc-{uuid.uuid4().hex[:8]}"
    ma.create_training_job_config(
        config_name=name, config_desc="from otc", worker_server_num=1, spec_id=1, model_id=2,
        parameter=[{"label": "label_column", "value": "y"}], data_url="/b/in/",
    )  # fmt: skip
    assert name in {c.config_name for c in ma.training_job_configs()}
    got = ma.get_training_job_config(name)
    assert got.config_desc == "from otc"
    ma.update_training_job_config(name, config_desc="changed", worker_server_num=1, spec_id=1,
                                  model_id=2, parameter=[{"label": "label_column", "value": "z"}])  # fmt: skip
    assert ma.get_training_job_config(name).config_desc == "changed"
    ma.delete_training_job_config(name)
    assert name not in {c.config_name for c in ma.training_job_configs()}

    viz = ma.create_visualization_job(job_name=name[:20], job_desc="otc", train_url="/b/logs/")
    assert viz.job_id and viz.service_url
    assert viz.job_id in {v.job_id for v in ma.visualization_jobs()}
    deadline = time.monotonic() + 120
    while ma.get_visualization_job(viz.job_id).status != 8:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    ma.stop_visualization_job(viz.job_id)
    assert ma.get_visualization_job(viz.job_id).status == 12
    ma.restart_visualization_job(viz.job_id)
    assert ma.get_visualization_job(viz.job_id).status in (1, 8)
    ma.delete_visualization_job(viz.job_id)
    assert viz.job_id not in {v.job_id for v in ma.visualization_jobs()}
