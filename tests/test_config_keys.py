"""Near-miss keys inside ``config`` are refused, naming the key they resemble (D29);
keys far from every known one are still ignored (D6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Server, assert_envelope, unique_name
from trainjobs.api.v1.schemas import JobConfigIn
from trainjobs.domain.config_keys import NearMissKey, refuse_near_miss_keys, resembles

KNOWN = tuple(JobConfigIn.model_fields)


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("parameters", "parameter"),
        ("paramter", "parameter"),
        ("bootfile_url", "boot_file_url"),
        ("Boot-File-URL", "boot_file_url"),
        ("train_uri", "train_url"),
        ("engine_ids", "engine_id"),
        ("wokrer_server_num", "worker_server_num"),
    ],
)
def test_near_misses_name_the_key_they_resemble(key: str, meant: str) -> None:
    assert resembles(key, KNOWN) == meant
    with pytest.raises(NearMissKey, match=repr(meant)):
        refuse_near_miss_keys({key: 1}, KNOWN)


@pytest.mark.parametrize(
    "key", ["flavor", "inputs", "job_id", "engine_name", "spec_code", "nas_type", "xyz", "数据"]
)
def test_far_keys_pass(key: str) -> None:
    assert resembles(key, KNOWN) is None
    refuse_near_miss_keys({key: 1}, KNOWN)


@settings(max_examples=60, deadline=None)
@given(key=st.text(max_size=30))
def test_any_key_is_judged_without_error(key: str) -> None:
    found = resembles(key, KNOWN)
    assert found is None or found in KNOWN


def _job(server: Server, config: dict[str, Any]) -> Any:
    app_url, boot = server.upload_script("print('hi')")
    return server.client.post(
        f"{server.v1}/training-jobs",
        json={
            "job_name": unique_name(),
            "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
                       "spec_id": 1, **config},
        },
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "meant"),
    [("parameters", "parameter"), ("paramter", "parameter"), ("bootfile_url", "boot_file_url")],
)
def test_job_creation_refuses_near_misses(server: Server, key: str, meant: str) -> None:
    body = assert_envelope(
        _job(server, {key: [{"label": "a", "value": "1"}]}), 400, "ModelArts.0104"
    )
    assert key in body["error_message"] and repr(meant) in body["error_message"]


def test_version_creation_refuses_near_misses_and_ignores_far_keys(server: Server) -> None:
    r = _job(server, {"some_field_of_ours": 1, "flavor": {"code": "x"}})
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    url = f"{server.v1}/training-jobs/{job_id}/versions"
    refused = server.client.post(url, json={"config": {"pre_version_id": r.json()["version_id"],
                                                       "Parameters": []}})  # fmt: skip
    body = assert_envelope(refused, 400, "ModelArts.0104")
    assert "'parameter'" in body["error_message"]
    # A version object sent back whole passes: its keys are the API's own.
    whole = server.client.get(f"{url}/{r.json()['version_id']}").json()
    config = {k: v for k, v in whole.items() if k not in ("is_success",)}
    again = server.client.post(url, json={"config": config})
    assert again.status_code == 200, again.text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(min_size=1, max_size=20))
def test_random_config_keys_are_refused_or_ignored_never_a_fault(server: Server, key: str) -> None:
    # Encoded here: lone surrogates travel as JSON escapes, as a hostile client sends them.
    body = {
        "job_name": unique_name(),
        "config": {key: 1, "create_version": False, "spec_id": 1, "worker_server_num": 1},
    }
    r = server.client.post(
        f"{server.v1}/training-jobs",
        content=json.dumps(body), headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error_code"] == "ModelArts.0104"
