"""Bad request bodies on the create and update endpoints: the ModelArts envelope with
the HTTP status of the DECISIONS error table, never a 500 or a framework-shaped body,
and nothing created. Helpers for the other test_errors_* modules live here too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Server, assert_envelope, assert_no_fault_logged_since, unique_name

QUICK = "pass\n"
ENVELOPE_KEYS = {"is_success", "error_code", "error_message", "error_msg"}
MAX_BODY = 1024 * 1024
MISSING_ID = 987_654_321
DROP = object()  # in a case table: leave this field out of the body

INVALID = "ModelArts.0104"
NOT_FOUND = "ModelArts.2775"

# log_start (in conftest.py) from this module's first test: its last test checks the
# service log since then.
pytestmark = pytest.mark.usefixtures("log_start")


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The ModelArts failure envelope and nothing else (no ``detail``, no traceback)."""
    body = assert_envelope(response, status, code)
    assert set(body) == ENVELOPE_KEYS, body
    return body


def send_json(server: Server, method: str, path: str, content: Any) -> httpx.Response:
    """``content`` (bytes, or chunks) sent as it is, declared JSON, to ``/v1/{project}path``."""
    return server.client.request(
        method, server.v1 + path, content=content, headers={"Content-Type": "application/json"}
    )


def project_jobs(server: Server) -> int:
    """How many jobs the project holds, in every workspace."""
    body = server.client.get(f"{server.v1}/training-jobs").json()
    return int(body["quotas"] - body["job_count_limit"])


def job_state(server: Server, job_id: int) -> tuple[int, str]:
    body = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    return body["version_count"], body["job_desc"]


def overlay(target: dict[str, Any], changes: dict[str, Any], app_url: str) -> None:
    for key, value in changes.items():
        if value is DROP:
            target.pop(key, None)
        elif isinstance(value, str):
            target[key] = value.replace("{app}", app_url)
        else:
            target[key] = value


def server_log(server: Server) -> Path:
    return server.data_dir.parent / f"serve-{server.port}.log"


def job_body(code: tuple[str, str], top: dict[str, Any], config: dict[str, Any]) -> Any:
    app_url, boot = code
    body: dict[str, Any] = {
        "job_name": unique_name(),
        "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot, "spec_id": 1},
    }
    overlay(body["config"], config, app_url)
    overlay(body, top, app_url)
    return body


def c(name: str, config: dict[str, Any], code: str = INVALID, top: Any = None) -> Any:
    """One case of a create table: config changes (and top-level changes) and the code."""
    return pytest.param(top or {}, config, code, id=name)


NO_PROGRAM = {"app_url": DROP, "boot_file_url": DROP}

# Cases that fail the same way on create-job and create-version.
CONFIG_CASES = [
    c("worker_server_num-word", {"worker_server_num": "two"}),
    c("worker_server_num-true", {"worker_server_num": True}),
    c("worker_server_num-zero", {"worker_server_num": 0}),
    c("worker_server_num-negative", {"worker_server_num": -1}),
    c("worker_server_num-fraction", {"worker_server_num": 1.5}),
    c("worker_server_num-object", {"worker_server_num": {"n": 1}}),
    c("spec_id-fraction", {"spec_id": 1.5}),
    c("spec_id-true", {"spec_id": True}),
    c("spec_id-negative", {"spec_id": -1}),
    c("spec_id-over-int64", {"spec_id": 2**64}),
    c("engine_id-word", {"engine_id": "one"}),
    c("parameter-not-a-list", {"parameter": {"label": "lr", "value": "0.1"}}),
    c("parameter-item-not-an-object", {"parameter": ["lr=0.1"]}),
    c("parameter-value-object", {"parameter": [{"label": "lr", "value": {"v": 0.1}}]}),
    c("parameter-value-list", {"parameter": [{"label": "lr", "value": [0.1]}]}),
    c("parameter-value-boolean", {"parameter": [{"label": "lr", "value": True}]}),
    c("parameter-value-nul-character", {"parameter": [{"label": "lr", "value": "0.1\x00"}]}),
    c("parameter-label-missing", {"parameter": [{"value": "0.1"}]}),
    c("parameter-label-with-space", {"parameter": [{"label": "learning rate", "value": "1"}]}),
    c("parameter-labels-repeated",
      {"parameter": [{"label": "lr", "value": "1"}, {"label": "lr", "value": "2"}]}),
    c("app_url-2000-chars", {"app_url": "/code/" + "a" * 2000, "boot_file_url": "/code/a.py"}),
    c("data_url-and-data_source",
      {"data_url": "/data/in/", "data_source": [{"type": "obs", "data_url": "/data/in/"}]}),
    c("data_url-and-dataset",
      {"data_url": "/data/in/", "dataset_id": "ds-1", "dataset_version_id": "v-1"}),
    c("dataset_id-without-version", {"dataset_id": "ds-1"}),
    c("dataset_version_id-without-id", {"dataset_version_id": "v-1"}),
    c("data_source-unknown-type", {"data_source": [{"type": "hdfs", "data_url": "/data/in/"}]}),
    c("model_id-without-its-required-parameter", {**NO_PROGRAM, "model_id": 3}),
    c("model_id-unknown", {**NO_PROGRAM, "model_id": 99}, "ModelArts.2791"),
    c("two-programs", {"app_url": "{app}", "boot_file_url": "{app}train.py",
                       "user_image_url": "swr.example/img:1", "user_command": "python a.py"}),
    c("user_command-nul-character",
      {**NO_PROGRAM, "user_image_url": "swr.example/img:1", "user_command": "python\x00 a.py"}),
    c("unknown-pool", {"pool_id": "no-such-pool"}),
    c("unknown-spec", {"spec_id": 99999}, "ModelArts.2781"),
    c("unknown-engine", {"engine_id": 99999}, "ModelArts.2780"),
    c("unknown-dataset", {"dataset_id": "no-such", "dataset_version_id": "v-1"}, "ModelArts.2783"),
    c("unknown-dataset-in-data_source",
      {"data_source": [{"type": "dataset", "dataset_id": "no-such", "dataset_version": "v-1"}]},
      "ModelArts.2783"),
    c("image-without-command", {**NO_PROGRAM, "user_image_url": "swr.example/img:1"},
      "ModelArts.2806"),
    c("command-without-image", {**NO_PROGRAM, "user_command": "python a.py"}, "ModelArts.2806"),
    c("app_url-not-in-store",
      {"app_url": "/no-such-bucket/app/", "boot_file_url": "/no-such-bucket/app/train.py"},
      "ModelArts.2757"),
    c("app_url-with-dotdot", {"app_url": "/code/../etc/", "boot_file_url": "/code/../etc/a.py"},
      "ModelArts.2757"),
    c("app_url-not-an-object-path", {"app_url": "code/app/", "boot_file_url": "code/app/a.py"},
      "ModelArts.2757"),
    c("boot_file_url-outside-app_url",
      {"app_url": "{app}", "boot_file_url": "/elsewhere/train.py"}, "ModelArts.2758"),
    c("boot_file_url-not-in-store",
      {"app_url": "{app}", "boot_file_url": "{app}no-such.py"}, "ModelArts.2758"),
    c("boot_file_url-is-app_url", {"app_url": "{app}", "boot_file_url": "{app}"},
      "ModelArts.2758"),
    c("data_url-with-dotdot", {"data_url": "/data/../etc/"}, "ModelArts.2791"),
    c("data_url-not-an-object-path", {"data_url": "data/in/"}, "ModelArts.2791"),
    c("data_source-url-with-dotdot",
      {"data_source": [{"type": "obs", "data_url": "/data/../etc/"}]}, "ModelArts.2791"),
    c("train_url-with-dotdot", {"train_url": "/out/../etc/"}, "ModelArts.2791"),
    c("log_url-with-backslash", {"log_url": "/logs/a\\b/"}, "ModelArts.2791"),
]  # fmt: skip

JOB_ONLY_CASES = [
    c("job_name-number", {}, top={"job_name": 123}),
    c("job_name-empty", {}, top={"job_name": ""}),
    c("job_name-65-chars", {}, top={"job_name": "j" * 65}),
    c("job_name-space", {}, top={"job_name": "my job"}),
    c("job_name-slash", {}, top={"job_name": "a/b"}),
    c("job_name-dot", {}, top={"job_name": "a.b"}),
    c("job_name-non-ascii", {}, top={"job_name": "训练"}),
    c("job_name-missing", {}, top={"job_name": DROP}),
    c("job_name-null", {}, top={"job_name": None}),
    c("job_desc-257-chars", {}, top={"job_desc": "d" * 257}),
    c("job_desc-number", {}, top={"job_desc": 5}),
    c("workspace_id-number", {}, top={"workspace_id": 5}),
    c("config-missing", {}, top={"config": DROP}),
    c("config-list", {}, top={"config": []}),
    c("config-string", {}, top={"config": "spec_id=1"}),
    c("worker_server_num-missing", {"worker_server_num": DROP}),
    c("no-program", NO_PROGRAM),
    c("no-spec-nor-pool", {"spec_id": DROP}),
    c("volumes-not-a-list", {"volumes": "nfs"}),
    c("volume-of-no-kind", {"volumes": [{}]}),
]


@pytest.mark.parametrize(("top", "config", "code_"), JOB_ONLY_CASES + CONFIG_CASES)
def test_create_job_with_bad_input_is_refused_and_creates_nothing(
    server: Server, code: tuple[str, str], top: dict[str, Any], config: dict[str, Any], code_: str
) -> None:
    before = project_jobs(server)
    r = server.client.post(f"{server.v1}/training-jobs", json=job_body(code, top, config))
    refused(r, 400, code_)
    assert project_jobs(server) == before


@pytest.mark.parametrize("above", [1, 5000], ids=["max_num+1", "max_num+5000"])
def test_worker_server_num_above_the_specs_max_num_is_2793(
    server: Server, code: tuple[str, str], done: dict[str, Any], above: int
) -> None:
    specs = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"]
    spec = specs[0]
    too_many = {"worker_server_num": spec["max_num"] + above, "spec_id": spec["spec_id"]}
    before = project_jobs(server)
    r = server.client.post(f"{server.v1}/training-jobs", json=job_body(code, {}, too_many))
    refused(r, 400, "ModelArts.2793")
    assert project_jobs(server) == before
    version_state = job_state(server, done["job_id"])
    r = server.client.post(
        f"{server.v1}/training-jobs/{done['job_id']}/versions", json={"config": too_many}
    )
    refused(r, 400, "ModelArts.2793")
    assert job_state(server, done["job_id"]) == version_state


VERSION_ONLY_CASES = [
    c("config-missing", {}, top={"config": DROP}),
    c("config-list", {}, top={"config": []}),
    c("job_desc-257-chars", {}, top={"job_desc": "d" * 257}),
    c("job_desc-number", {}, top={"job_desc": 7}),
    c("pre_version_id-word", {"pre_version_id": "abc"}),
    c("pre_version_id-negative", {"pre_version_id": -1}),
    c("pre_version_id-unknown", {"pre_version_id": MISSING_ID}, NOT_FOUND),
]


@pytest.mark.parametrize(("top", "config", "code_"), VERSION_ONLY_CASES + CONFIG_CASES)
def test_create_version_with_bad_input_is_refused_and_changes_nothing(
    server: Server,
    code: tuple[str, str],
    done: dict[str, Any],
    top: dict[str, Any],
    config: dict[str, Any],
    code_: str,
) -> None:
    app_url, _boot = code
    body: dict[str, Any] = {"job_desc": "must not stick", "config": {}}
    overlay(body["config"], config, app_url)
    overlay(body, top, app_url)
    before = job_state(server, done["job_id"])
    r = server.client.post(f"{server.v1}/training-jobs/{done['job_id']}/versions", json=body)
    refused(r, 404 if code_ == NOT_FOUND else 400, code_)
    assert job_state(server, done["job_id"]) == before


MALFORMED_BODIES = [
    pytest.param(b'{"job_name": ', id="truncated-json"),
    pytest.param(b"{'job_name': 'x'}", id="single-quotes"),
    pytest.param(b"[]", id="list"),
    pytest.param(b'["job_name", "x"]', id="list-of-strings"),
    pytest.param(b'"job"', id="string"),
    pytest.param(b"5", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"job_name": "\xff\xfe"}', id="not-utf8"),
    pytest.param(b"[" * 50_000 + b"]" * 50_000, id="deeply-nested"),
]
BODY_ROUTES = [
    pytest.param("POST", "/training-jobs", id="create-job"),
    pytest.param("PUT", "/training-jobs/{job}", id="update-job"),
    pytest.param("POST", "/training-jobs/{job}/versions", id="create-version"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("content", MALFORMED_BODIES)
def test_body_that_is_not_a_json_object_is_0104(
    server: Server, done: dict[str, Any], method: str, path: str, content: bytes
) -> None:
    before = (project_jobs(server), job_state(server, done["job_id"]))
    r = send_json(server, method, path.format(job=done["job_id"]), content)
    refused(r, 400, INVALID)
    assert (project_jobs(server), job_state(server, done["job_id"])) == before


@pytest.mark.parametrize(
    "body",
    [{"job_desc": "d" * 257}, {"job_desc": 5}, {"job_desc": None}, {"job_desc": ["x"]}, {},
     {"description": "wrong field name"}],
    ids=["257-chars", "number", "null", "list", "missing", "other-field-only"],
)  # fmt: skip
def test_update_job_with_bad_job_desc_is_0104_and_keeps_the_description(
    server: Server, done: dict[str, Any], body: dict[str, Any]
) -> None:
    before = job_state(server, done["job_id"])
    r = server.client.put(f"{server.v1}/training-jobs/{done['job_id']}", json=body)
    refused(r, 400, INVALID)
    assert job_state(server, done["job_id"]) == before


def test_update_job_accepts_256_chars_and_empty(server: Server, other: dict[str, Any]) -> None:
    for desc in ("d" * 256, ""):
        r = server.client.put(
            f"{server.v1}/training-jobs/{other['job_id']}", json={"job_desc": desc}
        )
        assert r.status_code == 200 and r.json() == {"is_success": True}, r.text
        assert job_state(server, other["job_id"])[1] == desc


def test_no_request_of_this_module_reached_an_unexpected_fault(
    server: Server, log_start: int
) -> None:
    """Runs last: the service log since this module began shows no unhandled exception."""
    assert_no_fault_logged_since(server, log_start)
