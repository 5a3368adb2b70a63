"""Bad inputs on every endpoint: the ModelArts envelope with the HTTP status of the
DECISIONS error table, never a 500 or a framework-shaped body, and nothing created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Server, assert_envelope, unique_name

QUICK = "pass\n"
ENVELOPE_KEYS = {"is_success", "error_code", "error_message", "error_msg"}
MAX_BODY = 1024 * 1024
MISSING_ID = 987_654_321
DROP = object()  # in a case table: leave this field out of the body

INVALID = "ModelArts.0104"
NOT_FOUND = "ModelArts.2775"


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The ModelArts failure envelope and nothing else (no ``detail``, no traceback)."""
    body = assert_envelope(response, status, code)
    assert set(body) == ENVELOPE_KEYS, body
    return body


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


@pytest.fixture(scope="module", autouse=True)
def log_start(server: Server) -> int:
    """Where the service log stood when this module began."""
    return server_log(server).stat().st_size


@pytest.fixture(scope="module")
def code(server: Server) -> tuple[str, str]:
    """(app_url, boot_file_url) of a code folder in the store."""
    return server.upload_script(QUICK)


@pytest.fixture(scope="module")
def done(server: Server) -> dict[str, Any]:
    """A job whose only version has COMPLETED."""
    created = server.create_job(QUICK)
    server.wait_status(created["job_id"], created["version_id"])
    return created


@pytest.fixture(scope="module")
def other(server: Server) -> dict[str, Any]:
    """A second job, to reach one job's version through another job's path."""
    created = server.create_job(QUICK)
    server.wait_status(created["job_id"], created["version_id"])
    return created


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
    r = server.client.request(
        method,
        server.v1 + path.format(job=done["job_id"]),
        content=content,
        headers={"Content-Type": "application/json"},
    )
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


# -- ids in the path -------------------------------------------------------------

JOB_ROUTES = [
    pytest.param("PUT", "/training-jobs/{job}", {"job_desc": "x"}, id="update-job"),
    pytest.param("DELETE", "/training-jobs/{job}", None, id="delete-job"),
    pytest.param("GET", "/training-jobs/{job}/versions", None, id="list-versions"),
    pytest.param("POST", "/training-jobs/{job}/versions", {"config": {}}, id="create-version"),
]
VERSION_ROUTES = [
    pytest.param("GET", "/training-jobs/{job}/versions/{version}", None, id="get-version"),
    pytest.param("POST", "/training-jobs/{job}/versions/{version}/stop", None, id="stop-version"),
    pytest.param("DELETE", "/training-jobs/{job}/versions/{version}", None, id="delete-version"),
]


def call(server: Server, method: str, path: str, body: Any, **ids: Any) -> httpx.Response:
    return server.client.request(method, server.v1 + path.format(**ids), json=body)


@pytest.mark.parametrize(("method", "path", "body"), JOB_ROUTES + VERSION_ROUTES)
def test_unknown_job_id_is_404_2775(
    server: Server, done: dict[str, Any], method: str, path: str, body: Any
) -> None:
    before = project_jobs(server)
    r = call(server, method, path, body, job=MISSING_ID, version=done["version_id"])
    refused(r, 404, NOT_FOUND)
    assert project_jobs(server) == before


@pytest.mark.parametrize(("method", "path", "body"), VERSION_ROUTES)
def test_unknown_version_id_is_404_2775(
    server: Server, done: dict[str, Any], method: str, path: str, body: Any
) -> None:
    r = call(server, method, path, body, job=done["job_id"], version=MISSING_ID)
    refused(r, 404, NOT_FOUND)


@pytest.mark.parametrize(("method", "path", "body"), VERSION_ROUTES)
def test_version_reached_through_another_job_is_404_2775(
    server: Server, done: dict[str, Any], other: dict[str, Any], method: str, path: str, body: Any
) -> None:
    r = call(server, method, path, body, job=other["job_id"], version=done["version_id"])
    refused(r, 404, NOT_FOUND)
    assert server.version(done["job_id"], done["version_id"])["status"] == 10


BAD_IDS = [
    pytest.param("abc", id="word"),
    pytest.param(str(2**64), id="2**64"),
    pytest.param(str(2**63), id="2**63"),
    pytest.param("0", id="zero"),
    pytest.param("-1", id="negative"),
    pytest.param("1e3", id="exponent"),
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(("method", "path", "body"), JOB_ROUTES + VERSION_ROUTES)
def test_job_id_that_is_not_a_positive_int64_is_0104(
    server: Server, done: dict[str, Any], method: str, path: str, body: Any, bad: str
) -> None:
    r = call(server, method, path, body, job=bad, version=done["version_id"])
    refused(r, 400, INVALID)


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(("method", "path", "body"), VERSION_ROUTES)
def test_version_id_that_is_not_a_positive_int64_is_0104(
    server: Server, done: dict[str, Any], method: str, path: str, body: Any, bad: str
) -> None:
    r = call(server, method, path, body, job=done["job_id"], version=bad)
    refused(r, 400, INVALID)


def test_deleted_job_and_version_answer_404_everywhere(server: Server) -> None:
    created = server.create_job(QUICK)
    job_id, first = created["job_id"], created["version_id"]
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
    second = r.json()["version_id"]
    server.wait_status(job_id, first)
    server.wait_status(job_id, second)
    version_path = f"{server.v1}/training-jobs/{job_id}/versions/{first}"
    assert server.client.delete(version_path).status_code == 200
    for method in ("GET", "DELETE"):
        refused(server.client.request(method, version_path), 404, NOT_FOUND)
    refused(server.client.post(f"{version_path}/stop"), 404, NOT_FOUND)
    assert server.client.delete(f"{server.v1}/training-jobs/{job_id}").status_code == 200
    for method, path, body in [p.values for p in JOB_ROUTES + VERSION_ROUTES]:
        r = call(server, method, path, body, job=job_id, version=second)
        refused(r, 404, NOT_FOUND)


# -- status, size, routing ---------------------------------------------------------


def test_stopping_a_finished_version_is_409_2796_and_keeps_its_status(
    server: Server, done: dict[str, Any]
) -> None:
    path = f"{server.v1}/training-jobs/{done['job_id']}/versions/{done['version_id']}/stop"
    refused(server.client.post(path), 409, "ModelArts.2796")
    refused(server.client.post(path), 409, "ModelArts.2796")
    assert server.version(done["job_id"], done["version_id"])["status"] == 10


def padded(code: tuple[str, str], size: int) -> bytes:
    """A valid create-job body of exactly ``size`` bytes (the padding is an unknown field)."""
    body = job_body(code, {"padding": ""}, {})
    short = len(json.dumps(body).encode())
    body["padding"] = "x" * (size - short)
    raw = json.dumps(body).encode()
    assert len(raw) == size
    return raw


def test_body_of_exactly_one_mib_is_accepted(server: Server, code: tuple[str, str]) -> None:
    r = server.client.post(
        f"{server.v1}/training-jobs",
        content=padded(code, MAX_BODY),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    server.wait_status(r.json()["job_id"], r.json()["version_id"])


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_body_over_one_mib_is_413_4104_and_creates_nothing(
    server: Server,
    code: tuple[str, str],
    done: dict[str, Any],
    method: str,
    path: str,
    streamed: bool,
) -> None:
    raw = padded(code, MAX_BODY + 1)
    content: Any = raw
    if streamed:
        content = (raw[i : i + 65536] for i in range(0, len(raw), 65536))
    before = (project_jobs(server), job_state(server, done["job_id"]))
    r = server.client.request(
        method,
        server.v1 + path.format(job=done["job_id"]),
        content=content,
        headers={"Content-Type": "application/json"},
    )
    refused(r, 413, "ModelArts.4104")
    assert (project_jobs(server), job_state(server, done["job_id"])) == before


@pytest.mark.parametrize(
    "path",
    ["{v1}/no-such-thing", "{v1}/training-jobs/{job}/no-such-thing",
     "{v1}/training-jobs/{job}/versions/{version}/stop/now", "{v1}/job/no-such-thing",
     "/no-such-thing", "/v2/{project}/training-jobs", "/v1"],
)  # fmt: skip  ("/" leads to the web console)
def test_unknown_path_is_404_2836(server: Server, done: dict[str, Any], path: str) -> None:
    url = path.format(
        v1=server.v1, project=server.project_id, job=done["job_id"], version=done["version_id"]
    )
    refused(server.client.get(url), 404, "ModelArts.2836")


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/training-jobs/{job}"), ("GET", "/training-jobs/{job}"),
     ("POST", "/training-jobs/{job}"), ("DELETE", "/training-jobs"), ("PUT", "/training-jobs"),
     ("PUT", "/training-jobs/{job}/versions"), ("DELETE", "/training-jobs/{job}/versions"),
     ("POST", "/training-jobs/{job}/versions/{version}"),
     ("PUT", "/training-jobs/{job}/versions/{version}"),
     ("GET", "/training-jobs/{job}/versions/{version}/stop"),
     ("DELETE", "/training-jobs/{job}/versions/{version}/stop"),
     ("POST", "/job/resource-specs"), ("DELETE", "/job/ai-engines")],
)  # fmt: skip
def test_wrong_method_is_405_2803(
    server: Server, done: dict[str, Any], method: str, path: str
) -> None:
    before = project_jobs(server)
    url = server.v1 + path.format(job=done["job_id"], version=done["version_id"])
    refused(server.client.request(method, url, json={"job_desc": "x"}), 405, "ModelArts.2803")
    assert project_jobs(server) == before
    assert server.version(done["job_id"], done["version_id"])["status"] == 10


# -- leniency for real clients (D6) -----------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/training-jobs/", "/training-jobs/{job}/versions/",
     "/training-jobs/{job}/versions/{version}/", "/job/resource-specs/", "/job/ai-engines/"],
)  # fmt: skip
def test_trailing_slash_on_a_read_is_served_directly(
    server: Server, done: dict[str, Any], path: str
) -> None:
    r = server.client.get(server.v1 + path.format(job=done["job_id"], version=done["version_id"]))
    assert r.status_code == 200, r.text
    assert r.json()["is_success"] is True


def test_trailing_slash_on_a_write_is_served_directly(
    server: Server, code: tuple[str, str], done: dict[str, Any]
) -> None:
    r = server.client.post(f"{server.v1}/training-jobs/", json=job_body(code, {}, {}))
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    server.wait_status(job_id, r.json()["version_id"])
    r = server.client.put(f"{server.v1}/training-jobs/{job_id}/", json={"job_desc": "slashed"})
    assert r.status_code == 200, r.text
    assert job_state(server, job_id) == (1, "slashed")
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions/", json={"config": {}})
    assert r.status_code == 200, r.text
    version_id = r.json()["version_id"]
    server.wait_status(job_id, version_id)
    stop = f"{server.v1}/training-jobs/{job_id}/versions/{version_id}/stop/"
    refused(server.client.post(stop), 409, "ModelArts.2796")
    r = server.client.delete(f"{server.v1}/training-jobs/{job_id}/versions/{version_id}/")
    assert r.status_code == 200, r.text
    assert job_state(server, job_id)[0] == 1
    before = project_jobs(server)
    assert server.client.delete(f"{server.v1}/training-jobs/{job_id}/").status_code == 200
    assert project_jobs(server) == before - 1


def test_empty_json_body_is_accepted_where_no_body_is_taken(
    server: Server, done: dict[str, Any]
) -> None:
    json_empty = {"Content-Type": "application/json"}
    job, version = done["job_id"], done["version_id"]
    for path in ("/training-jobs", f"/training-jobs/{job}/versions",
                 f"/training-jobs/{job}/versions/{version}"):  # fmt: skip
        r = server.client.request("GET", server.v1 + path, content=b"", headers=json_empty)
        assert r.status_code == 200, r.text
    stop = f"{server.v1}/training-jobs/{job}/versions/{version}/stop"
    refused(server.client.post(stop, content=b"", headers=json_empty), 409, "ModelArts.2796")
    r = server.client.post(f"{server.v1}/training-jobs/{job}/versions", json={"config": {}})
    extra = r.json()["version_id"]
    server.wait_status(job, extra)
    r = server.client.request(
        "DELETE",
        f"{server.v1}/training-jobs/{job}/versions/{extra}",
        content=b"",
        headers=json_empty,
    )
    assert r.status_code == 200, r.text


def test_create_version_ignores_fields_of_the_whole_job_object(
    server: Server, other: dict[str, Any]
) -> None:
    job_id = other["job_id"]
    count, desc = job_state(server, job_id)
    body = {
        "is_success": True, "error_code": "", "job_id": MISSING_ID, "job_name": "someone-else",
        "workspace_id": "ws-x", "version_count": 42, "version_name": "V9999", "status": 10,
        "create_time": 1, "config": {"create_version": False, "volumes": [{"bogus": 1}],
                                     "version_id": MISSING_ID, "no_such_field": {"a": [1]}},
    }  # fmt: skip
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json=body)
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["job_id"] == job_id
    assert created["job_name"] == other["job_name"]
    assert created["version_name"] == f"V{count + 1:04d}"
    assert job_state(server, job_id) == (count + 1, desc)
    server.wait_status(job_id, created["version_id"])


def test_create_job_ignores_unknown_fields(server: Server, code: tuple[str, str]) -> None:
    body = job_body(
        code,
        {"is_success": False, "error_code": "ModelArts.0104", "version_id": 5, "x": {"y": 1}},
        {"pre_version_id": MISSING_ID, "no_such_field": [1, 2]},
    )
    r = server.client.post(f"{server.v1}/training-jobs", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["is_success"] is True and r.json()["version_name"] == "V0001"
    server.wait_status(r.json()["job_id"], r.json()["version_id"])


@pytest.mark.parametrize(
    "query",
    [{"sortBy": "nope"}, {"sort_by": "nope"}, {"order": "up"}, {"per_page": "x"},
     {"status": "99"}, {"search_content": "s" * 65}],
    ids=lambda q: "&".join(f"{k}={v[:8]}" for k, v in q.items()),
)  # fmt: skip
def test_bad_job_list_query_is_0104(server: Server, query: dict[str, str]) -> None:
    refused(server.client.get(f"{server.v1}/training-jobs", params=query), 400, INVALID)


@pytest.mark.parametrize(
    ("path", "query"),
    [("/job/resource-specs", {"job_type": "batch"}), ("/job/resource-specs", {"engine_id": "x"}),
     ("/job/resource-specs", {"engine_id": "-1"}), ("/job/resource-specs", {"project_type": "x"}),
     ("/job/ai-engines", {"job_type": "batch"})],
)  # fmt: skip
def test_bad_catalogue_query_is_0104(server: Server, path: str, query: dict[str, str]) -> None:
    refused(server.client.get(server.v1 + path, params=query), 400, INVALID)


def test_no_request_of_this_module_reached_an_unexpected_fault(
    server: Server, log_start: int
) -> None:
    """Runs last: the service log since this module began shows no unhandled exception."""
    text = server_log(server).read_bytes()[log_start:].decode(errors="replace")
    assert "unexpected fault" not in text
    assert "Traceback" not in text, text[-3000:]
