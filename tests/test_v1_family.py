"""Built-in algorithms (T10, D25) and visualization jobs (V1-V7, D26) through the
HTTP API of a real server, and any text in the family's names, searches and
paths answered cleanly. Training-job configurations (C1-C5, D24) have their
own module."""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algorithm_data import breast_cancer_csv, diabetes_csv, digit_images
from conftest import Server, assert_envelope
from test_auth import add_token
from v1_family_helpers import config_body, name

ALGORITHM_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module; a schedule "hour" lasts a few seconds."""
    root = tmp_path_factory.mktemp("v1family")
    env = {"TRAINJOBS_VIZ_HOUR_S": "6", "TRAINJOBS_VIZ_SYNC_PERIOD_S": "1"}
    server = Server(root / "data", env=env).start()
    yield server
    server.stop()
    server.drop()


# -- T10 -------------------------------------------------------------------------


def test_built_in_algorithms_page_sort_and_search(srv: Server) -> None:
    r = srv.client.get(f"{srv.v1}/built-in-algorithms")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["is_success"] is True and body["model_total_count"] == 3
    types = {"model_id": int, "model_name": str, "model_usage": int, "model_precision": str,
             "model_size": int, "model_train_dataset": str, "model_dataset_format": str,
             "model_description_url": str, "parameter": str, "create_time": int,
             "engine_id": int, "engine_name": str, "engine_version": str}  # fmt: skip
    for model in body["models"]:
        assert {k: type(model[k]) for k in types} == types
        params = json.loads(model["parameter"])
        assert params and all(
            {"label", "value", "required", "placeholder_en", "placeholder_cn"} <= set(p)
            and isinstance(p["required"], bool)
            for p in params
        )
        assert model["model_size"] > 0 and model["model_dataset_format"]
    names = srv.client.get(
        f"{srv.v1}/built-in-algorithms", params={"sortBy": "model_name", "order": "asc"}
    ).json()["models"]
    assert [m["model_name"] for m in names] == sorted(m["model_name"] for m in names)
    page2 = srv.client.get(
        f"{srv.v1}/built-in-algorithms",
        params={"sortBy": "model_name", "order": "asc", "per_page": 1, "page": 2},
    ).json()
    assert page2["model_total_count"] == 3 and page2["models"] == names[1:2]
    found = srv.client.get(
        f"{srv.v1}/built-in-algorithms", params={"search_content": "label_column"}
    ).json()
    assert {m["model_name"] for m in found["models"]} == {
        "tabular_classification", "tabular_regression"}  # fmt: skip
    for bad in ({"per_page": 101}, {"per_page": 0}, {"sortBy": "nope"}, {"order": "up"}):
        assert_envelope(
            srv.client.get(f"{srv.v1}/built-in-algorithms", params=bad), 400, "ModelArts.0104"
        )


# -- D25: the algorithms really train ---------------------------------------------


@pytest.fixture(scope="module")
def trained(srv: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    """One finished version of each algorithm, trained at the same time."""
    root = tmp_path_factory.mktemp("algorithm-data")
    inputs = {
        1: (digit_images(root / "digits", per_class=30), [{"label": "epochs", "value": "15"}]),
        2: (breast_cancer_csv(root / "cancer"), [{"label": "label_column", "value": "diagnosis"}]),
        3: (diabetes_csv(root / "diabetes"), [{"label": "label_column", "value": "progression"}]),
    }
    created = {}
    for model_id, (folder, params) in inputs.items():
        bucket = f"data-{uuid.uuid4().hex[:8]}"
        srv.upload(folder, f"/{bucket}/in")
        r = srv.client.post(f"{srv.v1}/training-jobs", json={
            "job_name": f"algo{model_id}-{name()}",
            "config": {"worker_server_num": 1, "spec_id": 1, "model_id": model_id,
                       "data_url": f"/{bucket}/in/", "parameter": params}})  # fmt: skip
        assert r.status_code == 200, r.text
        created[model_id] = r.json()
    return {
        model_id: srv.wait_status(c["job_id"], c["version_id"], timeout_s=ALGORITHM_TIMEOUT_S)
        for model_id, c in created.items()
    }


@pytest.mark.parametrize("model_id", [1, 2, 3])
def test_each_algorithm_trains_and_reports_metrics(
    srv: Server, trained: dict[int, dict[str, Any]], model_id: int
) -> None:
    version = trained[model_id]
    assert version["status"] == 10, srv.log_text(version["job_id"], version["version_id"])
    assert version["model_id"] == model_id and version["app_url"] == ""
    metrics = json.loads(version["model_metric_list"])
    total = metrics["total_metric"]["total_metric_values"]
    if model_id == 1:
        assert len(metrics["metric"]) == 10 and total["accuracy"] > 0.8
    elif model_id == 2:
        names = {m["metric_meta"]["class_name"] for m in metrics["metric"]}
        assert names == {"benign", "malignant"} and total["accuracy"] > 0.9
        assert all(0 < m["metric_values"]["precision"] <= 1 for m in metrics["metric"])
    else:
        assert metrics["metric"] == [] and total["r2"] > 0 and total["rmse"] > 0
    outputs = {p.name for p in (srv.obs_dir / version["train_url"].strip("/")).iterdir()}
    assert {"model.joblib", "model_metrics.json", "events"} <= outputs


def test_algorithm_parameters_are_checked_at_create(srv: Server) -> None:
    base = {"worker_server_num": 1, "spec_id": 1, "data_url": "/b/in/"}
    r = srv.client.post(f"{srv.v1}/training-jobs", json={
        "job_name": name(), "config": {**base, "model_id": 2}})  # fmt: skip
    body = assert_envelope(r, 400, "ModelArts.0104")
    assert "label_column" in body["error_message"]
    r = srv.client.post(f"{srv.v1}/training-jobs", json={
        "job_name": name(), "config": {**base, "model_id": 77}})  # fmt: skip
    assert_envelope(r, 400, "ModelArts.2791")


# -- V1-V7 -----------------------------------------------------------------------


def wait_viz(
    srv: Server, job_id: int, statuses: set[int], timeout_s: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        r = srv.client.get(f"{srv.v1}/visualization-jobs/{job_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.3)


def test_visualization_serves_tensorboard_to_its_project_only(
    srv: Server, trained: dict[int, dict[str, Any]]
) -> None:
    base = f"{srv.v1}/visualization-jobs"
    train_url = trained[1]["train_url"]
    job_name = name()
    r = srv.client.post(base, json={
        "job_name": job_name, "job_desc": "digits", "train_url": train_url,
        "job_type": "TensorBoard", "flavor": {"code": "any"},
        "schedule": [{"type": "stop", "time_unit": "HOURS", "duration": 0}]})  # fmt: skip
    assert r.status_code == 200, r.text
    created = r.json()
    assert isinstance(created["job_id"], int) and created["status"] == 1
    assert isinstance(created["create_time"], int) and created["job_name"] == job_name
    service_url = created["service_url"]
    assert service_url == f"{srv.base}/tensorboard/{srv.project_id}/{created['job_id']}/"
    assert_envelope(srv.client.post(base, json={"job_name": job_name, "train_url": train_url}),
                    400, "ModelArts.0103")  # fmt: skip

    job = wait_viz(srv, created["job_id"], {8})
    assert job["is_success"] is True and job["train_url"] == train_url
    for key, kind in (("job_id", int), ("duration", int), ("create_time", int),
                      ("resource_id", str), ("job_desc", str), ("service_url", str)):  # fmt: skip
        assert isinstance(job[key], kind), key

    headers = {"X-Auth-Token": srv.token}
    page = httpx.get(service_url, headers=headers, timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    runs: list[str] = []
    deadline = time.monotonic() + 60
    while "events" not in runs and time.monotonic() < deadline:
        runs = httpx.get(service_url + "data/runs", headers=headers, timeout=30).json()
        time.sleep(0.5)
    assert "events" in runs
    scalars = httpx.get(
        service_url + "data/plugin/scalars/scalars",
        params={"run": "events", "tag": "test/accuracy"},
        headers=headers,
        timeout=30,
    )
    assert scalars.status_code == 200, scalars.text
    points = scalars.json()
    assert len(points) == 15 and all(0 <= value <= 1 for _wall, _step, value in points)

    other_project = secrets.token_hex(16)
    other = add_token(srv, other_project, new_project=True)
    refused = httpx.get(service_url + "data/runs", headers={"X-Auth-Token": other}, timeout=30)
    assert_envelope(refused, 403, "ModelArts.0210")
    assert_envelope(httpx.get(service_url + "data/runs", timeout=30), 401, "ModelArts.0201")
    assert_envelope(
        httpx.get(f"{srv.base}/v1/{other_project}/visualization-jobs/{created['job_id']}",
                  headers={"X-Auth-Token": other}, timeout=30),
        404, "ModelArts.2775",
    )  # fmt: skip

    listed = srv.client.get(base, params={"search_content": job_name, "status": "8"}).json()
    assert listed["job_total_count"] == 1 and listed["jobs"][0]["job_id"] == created["job_id"]
    assert isinstance(listed["quotas"], int) and isinstance(listed["job_count_limit"], int)
    assert srv.client.put(f"{base}/{created['job_id']}", json={"job_desc": "new"}).json() == {
        "is_success": True}  # fmt: skip
    assert srv.client.get(f"{base}/{created['job_id']}").json()["job_desc"] == "new"

    assert srv.client.post(f"{base}/{created['job_id']}/stop").json() == {"is_success": True}
    stopped = wait_viz(srv, created["job_id"], {12})
    assert stopped["duration"] > 0
    assert_envelope(srv.client.post(f"{base}/{created['job_id']}/stop"), 409, "ModelArts.2796")
    assert_envelope(httpx.get(service_url + "data/runs", headers=headers, timeout=30),
                    409, "ModelArts.2796")  # fmt: skip

    assert srv.client.post(f"{base}/{created['job_id']}/restart").json() == {"is_success": True}
    again = wait_viz(srv, created["job_id"], {8})
    assert again["service_url"] == service_url
    assert_envelope(srv.client.post(f"{base}/{created['job_id']}/restart"), 409, "ModelArts.2796")
    assert httpx.get(service_url + "data/runs", headers=headers, timeout=30).status_code == 200

    assert srv.client.delete(f"{base}/{created['job_id']}").json() == {"is_success": True}
    assert_envelope(srv.client.get(f"{base}/{created['job_id']}"), 404, "ModelArts.2775")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param({"job_type": "mindinsight"}, "", id="mindinsight"),
        pytest.param({"job_type": "other"}, "", id="unknown-type"),
        pytest.param({"job_name": "x" * 21}, "", id="long-name"),
        pytest.param({"job_name": "bad name"}, "", id="bad-name"),
        pytest.param({"train_url": ""}, "", id="no-train-url"),
        pytest.param({"flavor": "big"}, "", id="flavor-not-object"),
        pytest.param(
            {"schedule": {"type": "stop", "time_unit": "HOURS", "duration": 25}},
            "",
            id="duration-over-24",
        ),
        pytest.param(
            {"schedule": {"type": "start", "time_unit": "HOURS", "duration": 1}},
            "",
            id="schedule-type",
        ),
        pytest.param({"schedule": [{"duration": 1}, {"duration": 2}]}, "", id="two-schedules"),
        pytest.param(None, "/abc", id="job-id-not-digits"),
    ],
)
def test_visualization_bad_inputs(srv: Server, body: dict[str, Any] | None, path: str) -> None:
    base = f"{srv.v1}/visualization-jobs"
    if body is None:
        assert_envelope(srv.client.get(base + path), 400, "ModelArts.0104")
        return
    sent = {"job_name": name(), "train_url": "/b/logs/", **body}
    body_out = assert_envelope(srv.client.post(base, json=sent), 400, "ModelArts.0104")
    if body.get("job_type") == "mindinsight":
        assert "not available" in body_out["error_message"]


def test_visualization_missing_is_404(srv: Server) -> None:
    base = f"{srv.v1}/visualization-jobs/987654"
    for method, path in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/stop"),
                         ("POST", "/restart")):  # fmt: skip
        body = {"job_desc": "x"} if method == "PUT" else None
        assert_envelope(srv.client.request(method, base + path, json=body), 404, "ModelArts.2775")


def test_schedule_stops_the_job_also_across_a_restart(tmp_path: Path) -> None:
    env = {"TRAINJOBS_VIZ_HOUR_S": "12", "TRAINJOBS_VIZ_SYNC_PERIOD_S": "1"}
    first = Server(tmp_path / "data", env=env).start()
    try:
        r = first.client.post(f"{first.v1}/visualization-jobs", json={
            "job_name": "auto-stop", "train_url": "/logs/none/",
            "schedule": {"type": "stop", "time_unit": "HOURS", "duration": 1}})  # fmt: skip
        assert r.status_code == 200, r.text
        job_id = r.json()["job_id"]
        wait_viz(first, job_id, {8})
    finally:
        first.stop()
    # the same database (on PostgreSQL the first server made its own)
    second = Server(
        tmp_path / "data", env={**env, "TRAINJOBS_DATABASE_URL": first.database_url}
    ).start()
    try:
        assert second.client.get(f"{second.v1}/visualization-jobs/{job_id}").json()["status"] in (
            1, 8, 12)  # fmt: skip
        stopped = wait_viz(second, job_id, {12}, timeout_s=60)
        assert "schedule" in stopped["failure_reason"]
        assert 10_000 <= stopped["duration"] <= 40_000
    finally:
        second.stop()
        first.drop()


# -- any text, anywhere: a clean answer ------------------------------------------

TEXT = st.text(st.characters(codec=None, exclude_characters="\x00"), max_size=80) | st.text(
    st.characters(blacklist_categories=()), max_size=20
)


def _clean(r: httpx.Response) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        body = r.json()
        assert body["is_success"] is False and body["error_code"].startswith("ModelArts."), body


@given(text=TEXT)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_any_text_in_names_searches_and_paths_is_answered_cleanly(srv: Server, text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    quoted = urllib.parse.quote(raw, safe="")
    _clean(srv.client.get(f"{srv.v1}/training-job-configs/{quoted}"))
    _clean(srv.client.get(f"{srv.v1}/training-job-configs", params={"search_content": raw}))
    _clean(srv.client.get(f"{srv.v1}/built-in-algorithms", params={"search_content": raw}))
    _clean(srv.client.get(f"{srv.v1}/visualization-jobs", params={"search_content": raw}))
    _clean(srv.client.get(f"{srv.v1}/visualization-jobs/{quoted}"))
    _clean(srv.client.post(f"{srv.v1}/training-job-configs", json=config_body(raw)))
    _clean(srv.client.post(f"{srv.v1}/visualization-jobs", json={
        "job_name": raw, "train_url": "/b/" + raw, "job_desc": raw, "job_type": raw}))  # fmt: skip
    _clean(httpx.get(f"{srv.base}/tensorboard/{srv.project_id}/{quoted}/data/runs",
                     headers={"X-Auth-Token": srv.token}, timeout=30))  # fmt: skip
    # Control characters in a header are refused by the HTTP layer before the service.
    header = "".join(
        c for c in raw.encode("utf-8", "replace").decode("latin-1") if " " <= c != "\x7f"
    ).strip()
    try:
        r = httpx.get(f"{srv.base}/tensorboard/{srv.project_id}/1/",
                      headers={"X-Auth-Token": header}, timeout=30)  # fmt: skip
    except (httpx.LocalProtocolError, ValueError):
        return  # a header the client itself will not send
    _clean(r)
