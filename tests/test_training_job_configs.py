"""Training-job configurations (C1-C5, D24) through the HTTP API of a real
server: their life cycle, bad inputs, and the sample configurations."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server, assert_envelope
from v1_family_helpers import config_body, name


def test_configurations_create_list_get_update_delete(server: Server) -> None:
    base = f"{server.v1}/training-job-configs"
    first, second = f"a-{name()}", f"b-{name()}"
    for config_name in (first, second):
        r = server.client.post(base, json=config_body(config_name))
        assert r.status_code == 200 and r.json() == {"is_success": True}, r.text
    assert_envelope(server.client.post(base, json=config_body(first)), 400, "ModelArts.0103")

    detail = server.client.get(f"{base}/{first}").json()
    assert detail["is_success"] is True and detail["config_name"] == first
    assert detail["model_id"] == 2 and detail["data_url"] == "/not-yet/there/"
    params = {p["label"]: p["value"] for p in detail["parameter"]}
    assert params["label_column"] == "diagnosis" and params["max_iter"] == "20"
    assert params["learning_rate"] == "0.1"  # the algorithm's default, filled in
    for key, kind in (("worker_server_num", int), ("spec_id", int), ("engine_id", int),
                      ("gpu_num", int), ("create_time", int), ("core", str), ("cpu", str),
                      ("engine_name", str), ("spec_code", str), ("data_source", list),
                      ("volumes", list), ("pool_id", str), ("nas_type", str)):  # fmt: skip
        assert isinstance(detail[key], kind), key

    listed = server.client.get(base, params={"sortBy": "config_name", "order": "asc"}).json()
    assert listed["config_total_count"] >= 2
    names = [c["config_name"] for c in listed["configs"]]
    assert names == sorted(names)
    item = next(c for c in listed["configs"] if c["config_name"] == first)
    assert set(item) == {"config_name", "config_desc", "create_time", "engine_type",
                         "engine_name", "engine_id", "engine_version", "user_image_url",
                         "user_command"}  # fmt: skip
    searched = server.client.get(base, params={"search_content": first.upper()}).json()
    assert [c["config_name"] for c in searched["configs"]] == [first]
    paged = server.client.get(base, params={"per_page": 1, "page": 2, "order": "asc"}).json()
    assert len(paged["configs"]) == 1 and paged["configs"][0]["config_name"] == names[1]

    r = server.client.put(f"{base}/{first}", json={"config_desc": "changed", "parameter": [
        {"label": "label_column", "value": "other"}]})  # fmt: skip
    assert r.status_code == 200, r.text
    changed = server.client.get(f"{base}/{first}").json()
    assert changed["config_desc"] == "changed" and changed["data_url"] == "/not-yet/there/"
    assert {p["label"]: p["value"] for p in changed["parameter"]}["label_column"] == "other"

    assert server.client.delete(f"{base}/{first}").json() == {"is_success": True}
    assert_envelope(server.client.get(f"{base}/{first}"), 404, "ModelArts.2775")
    assert_envelope(server.client.delete(f"{base}/{first}"), 404, "ModelArts.2775")
    assert_envelope(server.client.put(f"{base}/{first}", json={}), 404, "ModelArts.2775")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"config_name": "bad name!"}, 400, "ModelArts.0104", id="bad-name"),
        pytest.param({"config_name": "x" * 65}, 400, "ModelArts.0104", id="long-name"),
        pytest.param({"parameter": []}, 400, "ModelArts.0104", id="required-parameter"),
        pytest.param({"model_id": 999}, 400, "ModelArts.2791", id="unknown-model"),
        pytest.param({"worker_server_num": "one"}, 400, "ModelArts.0104", id="workers-type"),
        pytest.param({"spec_id": 424242}, 400, None, id="unknown-spec"),
        pytest.param({"config_desc": "d" * 257}, 400, "ModelArts.0104", id="long-desc"),
    ],
)
def test_configuration_bad_inputs(
    server: Server, body: dict[str, Any], status: int, code: str | None
) -> None:
    sent = {**config_body(name()), **body}
    r = server.client.post(f"{server.v1}/training-job-configs", json=sent)
    assert r.status_code == status, r.text
    if code:
        assert_envelope(r, status, code)


def test_sample_configurations_are_one_per_algorithm(server: Server) -> None:
    base = f"{server.v1}/training-job-configs"
    samples = server.client.get(base, params={"config_type": "sample", "per_page": 100}).json()
    assert samples["config_total_count"] == 3
    first = samples["configs"][0]["config_name"]
    detail = server.client.get(f"{base}/{first}", params={"config_type": "sample"}).json()
    assert detail["model_id"] in (1, 2, 3) and detail["parameter"]
    assert_envelope(server.client.get(f"{base}/{first}"), 404, "ModelArts.2775")
    assert_envelope(server.client.delete(f"{base}/{first}"), 404, "ModelArts.2775")
    assert_envelope(server.client.get(base, params={"config_type": "other"}), 400, "ModelArts.0104")
