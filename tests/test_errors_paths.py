"""Bad ids in the path, wrong status, size and routing, and leniency for real clients:
the ModelArts envelope with the HTTP status of the DECISIONS error table, never a 500
or a framework-shaped body. Runs after test_errors.py, and checks last that no request
of either module reached an unexpected fault."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conftest import Server, assert_no_fault_logged_since
from test_errors import (
    BODY_ROUTES,
    INVALID,
    MAX_BODY,
    MISSING_ID,
    NOT_FOUND,
    QUICK,
    job_body,
    job_state,
    project_jobs,
    refused,
    send_json,
)

pytestmark = pytest.mark.usefixtures("log_start")

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
    r = send_json(server, "POST", "/training-jobs", padded(code, MAX_BODY))
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
    r = send_json(server, method, path.format(job=done["job_id"]), content)
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
    assert_no_fault_logged_since(server, log_start)
