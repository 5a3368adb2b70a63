"""Every /v1 endpoint needs a token of the URL's project (DECISIONS error table, 02xx codes)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Server, assert_envelope, unique_name
from trainjobs.domain.clock import now_ms
from trainjobs.domain.hashing import hash_token
from trainjobs.store.database import Database
from trainjobs.store.identity import insert_project, insert_token

QUICK = "pass\n"
OTHER_QUOTA = 5

ROUTES = [
    pytest.param("GET", "/training-jobs", None, id="list-jobs"),
    pytest.param("POST", "/training-jobs", "CREATE", id="create-job"),
    pytest.param("PUT", "/training-jobs/{job}", {"job_desc": "not yours"}, id="update-job"),
    pytest.param("DELETE", "/training-jobs/{job}", None, id="delete-job"),
    pytest.param("POST", "/training-jobs/{job}/versions", {"config": {}}, id="create-version"),
    pytest.param("GET", "/training-jobs/{job}/versions", None, id="list-versions"),
    pytest.param("GET", "/training-jobs/{job}/versions/{version}", None, id="get-version"),
    pytest.param("DELETE", "/training-jobs/{job}/versions/{version}", None, id="delete-version"),
    pytest.param("POST", "/training-jobs/{job}/versions/{version}/stop", None, id="stop-version"),
    pytest.param(
        "GET", "/training-jobs/{job}/versions/{version}/diff/{other}", None, id="diff-versions"
    ),
    pytest.param("GET", "/job/resource-specs", None, id="resource-specs"),
    pytest.param("GET", "/job/ai-engines", None, id="ai-engines"),
    pytest.param(
        "GET", "/training-jobs/{job}/versions/{version}/log/file-names", None, id="log-files"
    ),
    pytest.param(
        "GET", "/training-jobs/{job}/versions/{version}/aom-log?log_file=x", None, id="aom-log"
    ),
    pytest.param("GET", "/datasets", None, id="list-datasets"),
    pytest.param(
        "POST", "/datasets", {"dataset_name": "d", "data_url": "/b/"}, id="create-dataset"
    ),
    pytest.param(
        "POST",
        "/datasets/{dataset}/versions",
        {"version_name": "v", "data_url": "/b/"},
        id="add-dataset-version",
    ),
    pytest.param(
        "GET", "/training-jobs/{job}/versions/{version}/diff/{other}", None, id="diff-versions"
    ),
    pytest.param("GET", "/built-in-algorithms", None, id="built-in-algorithms"),
    pytest.param("GET", "/training-job-configs", None, id="list-configs"),
    pytest.param(
        "POST",
        "/training-job-configs",
        {
            "config_name": "theirs",
            "worker_server_num": 1,
            "spec_id": 1,
            "model_id": 2,
            "parameter": [{"label": "label_column", "value": "y"}],
        },
        id="create-config",
    ),  # fmt: skip
    pytest.param("GET", "/training-job-configs/{config}", None, id="get-config"),
    pytest.param("PUT", "/training-job-configs/{config}", {"config_desc": "x"}, id="update-config"),
    pytest.param("DELETE", "/training-job-configs/{config}", None, id="delete-config"),
    pytest.param("GET", "/visualization-jobs", None, id="list-viz"),
    pytest.param(
        "POST", "/visualization-jobs", {"job_name": "theirs", "train_url": "/b/"}, id="create-viz"
    ),
    pytest.param("GET", "/visualization-jobs/{viz}", None, id="get-viz"),
    pytest.param("PUT", "/visualization-jobs/{viz}", {"job_desc": "x"}, id="update-viz"),
    pytest.param("DELETE", "/visualization-jobs/{viz}", None, id="delete-viz"),
    pytest.param("POST", "/visualization-jobs/{viz}/stop", None, id="stop-viz"),
    pytest.param("POST", "/visualization-jobs/{viz}/restart", None, id="restart-viz"),
]
OWNED = ("{job}", "{config}", "{viz}")


def test_the_route_table_covers_every_project_route(server: Server) -> None:
    """Every /v1/{project_id} route of the service is in ROUTES, so none skips the checks."""
    spec = httpx.get(f"{server.base}/openapi.json", timeout=30).json()
    served = {
        (method.upper(), path.removeprefix("/v1/{project_id}"))
        for path, operations in spec["paths"].items()
        if path.startswith("/v1/{project_id}")
        for method in operations
    }
    listed = {
        (
            p.values[0],
            str(p.values[1])
            .split("?")[0]
            .replace("{job}", "{job_id}")
            .replace("{version}", "{version_id}")
            .replace("{other}", "{other_id}"),
        )
        for p in ROUTES
    }
    listed = {
        (
            m,
            path.replace("{dataset}", "{dataset_id}")
            .replace("{other}", "{other_id}")
            .replace("{config}", "{config_name}")
            .replace("{viz}", "{job_id}"),
        )
        for m, path in listed
    }
    assert served == listed


@pytest.fixture(scope="module")
def target(server: Server) -> dict[str, Any]:
    """A finished job of the server's own project, with its code folder."""
    app_url, boot = server.upload_script(QUICK)
    r = server.client.post(
        f"{server.v1}/training-jobs",
        json={"job_name": unique_name(), "job_desc": "mine",
              "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
                         "spec_id": 1}},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()
    server.wait_status(created["job_id"], created["version_id"])
    config = f"c-{created['job_id']}"
    r = server.client.post(
        f"{server.v1}/training-job-configs",
        json={"config_name": config, "worker_server_num": 1, "app_url": app_url,
              "boot_file_url": boot, "spec_id": 1},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    r = server.client.post(
        f"{server.v1}/visualization-jobs", json={"job_name": config, "train_url": "/none/"}
    )
    assert r.status_code == 200, r.text
    viz = r.json()["job_id"]
    assert server.client.post(f"{server.v1}/visualization-jobs/{viz}/stop").status_code == 200
    return {**created, "app_url": app_url, "boot_file_url": boot, "config": config, "viz": viz}


def add_token(server: Server, project_id: str, *, new_project: bool, expires_at: int = 0) -> str:
    """Write a token (and its project) into the running server's own database."""
    token = secrets.token_urlsafe(32)
    db = Database(server.database_url)
    try:
        with db.write() as conn:
            if new_project:
                name = f"other-{project_id[:8]}"
                insert_project(conn, project_id, name, OTHER_QUOTA, now_ms())
            insert_token(conn, hash_token(token), project_id, now_ms(), expires_at=expires_at)
    finally:
        db.dispose()
    return token


@pytest.fixture(scope="module")
def other_project(server: Server) -> tuple[str, str]:
    """(project_id, token) of a second project of the same deployment."""
    project_id = secrets.token_hex(16)
    return project_id, add_token(server, project_id, new_project=True)


@pytest.fixture(scope="module")
def expired_token(server: Server) -> str:
    return add_token(server, server.project_id, new_project=False, expires_at=now_ms() - 60_000)


@pytest.fixture
def anonymous(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=30) as client:
        yield client


def send(
    client: httpx.Client,
    project_id: str,
    target: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if body == "CREATE":
        body = {"job_name": unique_name(),
                "config": {"worker_server_num": 1, "app_url": target["app_url"],
                           "boot_file_url": target["boot_file_url"], "spec_id": 1}}  # fmt: skip
    url = f"/v1/{project_id}" + path.format(
        job=target["job_id"],
        version=target["version_id"],
        other=target["version_id"],
        dataset=target["job_id"],
        config=target["config"],
        viz=target["viz"],
    )
    return client.request(method, url, json=body, headers=headers)


def untouched(server: Server, target: dict[str, Any], jobs_before: int) -> None:
    """The refused request changed nothing of the server's project."""
    version = server.version(target["job_id"], target["version_id"])
    assert version["status"] == 10 and version["job_desc"] == "mine"
    listed = server.client.get(f"{server.v1}/training-jobs/{target['job_id']}/versions").json()
    assert listed["version_count"] == 1
    assert project_jobs(server) == jobs_before


def project_jobs(server: Server) -> int:
    body = server.client.get(f"{server.v1}/training-jobs").json()
    return int(body["quotas"] - body["job_count_limit"])


def test_health_needs_no_token(anonymous: httpx.Client) -> None:
    r = anonymous.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "sandbox": True}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_token_is_401_0201(
    server: Server,
    anonymous: httpx.Client,
    target: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    before = project_jobs(server)
    r = send(anonymous, server.project_id, target, method, path, body)
    assert_envelope(r, 401, "ModelArts.0201")
    untouched(server, target, before)


@pytest.mark.parametrize(
    "headers",
    [{"X-Auth-Token": ""}, {"Authorization": "Bearer"}, {"Authorization": ""}],
    ids=["empty-x-auth-token", "bearer-alone", "empty-authorization"],
)
def test_empty_token_is_401_0201(
    server: Server, anonymous: httpx.Client, headers: dict[str, str]
) -> None:
    r = anonymous.get(f"{server.v1}/training-jobs", headers=headers)
    assert_envelope(r, 401, "ModelArts.0201")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_unknown_token_is_401_0203(
    server: Server,
    anonymous: httpx.Client,
    target: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    before = project_jobs(server)
    headers = {"X-Auth-Token": secrets.token_urlsafe(32)}
    r = send(anonymous, server.project_id, target, method, path, body, headers)
    assert_envelope(r, 401, "ModelArts.0203")
    untouched(server, target, before)


@pytest.mark.parametrize(
    "headers",
    [{"X-Auth-Token": "not a token at all"}, {"Authorization": "Bearer unknown-token"},
     {"X-Auth-Token": "x" * 4096}],
    ids=["garbage", "bearer-unknown", "very-long"],
)  # fmt: skip
def test_unparsable_or_unknown_token_is_401_0203(
    server: Server, anonymous: httpx.Client, headers: dict[str, str]
) -> None:
    r = anonymous.get(f"{server.v1}/training-jobs", headers=headers)
    assert_envelope(r, 401, "ModelArts.0203")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_expired_token_is_401_0202(
    server: Server,
    anonymous: httpx.Client,
    target: dict[str, Any],
    expired_token: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = project_jobs(server)
    headers = {"X-Auth-Token": expired_token}
    r = send(anonymous, server.project_id, target, method, path, body, headers)
    assert_envelope(r, 401, "ModelArts.0202")
    untouched(server, target, before)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
@pytest.mark.parametrize(
    "path", ["/training-jobs", "/training-jobs/{job}/versions", "/job/resource-specs"]
)
def test_authorization_bearer_token_is_accepted(
    server: Server, anonymous: httpx.Client, target: dict[str, Any], scheme: str, path: str
) -> None:
    headers = {"Authorization": f"{scheme} {server.token}"}
    r = send(anonymous, server.project_id, target, "GET", path, None, headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_success"] is True


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_token_of_another_project_is_403_0210(
    server: Server,
    anonymous: httpx.Client,
    target: dict[str, Any],
    other_project: tuple[str, str],
    method: str,
    path: str,
    body: Any,
) -> None:
    _other_id, other_token = other_project
    before = project_jobs(server)
    for headers in ({"X-Auth-Token": other_token}, {"Authorization": f"Bearer {other_token}"}):
        r = send(anonymous, server.project_id, target, method, path, body, headers)
        assert_envelope(r, 403, "ModelArts.0210")
    untouched(server, target, before)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_own_token_on_another_projects_url_is_403_0210(
    server: Server,
    target: dict[str, Any],
    other_project: tuple[str, str],
    method: str,
    path: str,
    body: Any,
) -> None:
    other_id, _other_token = other_project
    before = project_jobs(server)
    for project_id in (other_id, secrets.token_hex(16)):  # a real one and one that does not exist
        r = send(server.client, project_id, target, method, path, body)
        assert_envelope(r, 403, "ModelArts.0210")
    untouched(server, target, before)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [p for p in ROUTES if any(part in str(p.values[1]) for part in OWNED)],
)
def test_another_projects_job_is_404_2775_for_its_own_token(
    server: Server,
    anonymous: httpx.Client,
    target: dict[str, Any],
    other_project: tuple[str, str],
    method: str,
    path: str,
    body: Any,
) -> None:
    other_id, other_token = other_project
    before = project_jobs(server)
    headers = {"X-Auth-Token": other_token}
    r = send(anonymous, other_id, target, method, path, body, headers)
    assert_envelope(r, 404, "ModelArts.2775")
    untouched(server, target, before)


def test_another_project_lists_none_of_this_projects_jobs(
    server: Server,
    anonymous: httpx.Client,
    target: dict[str, Any],
    other_project: tuple[str, str],
) -> None:
    other_id, other_token = other_project
    r = anonymous.get(f"/v1/{other_id}/training-jobs", headers={"X-Auth-Token": other_token})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["jobs"] == [] and body["job_total_count"] == 0
    assert (body["quotas"], body["job_count_limit"]) == (OTHER_QUOTA, OTHER_QUOTA)
    r = anonymous.get(f"/v1/{other_id}/job/ai-engines", headers={"X-Auth-Token": other_token})
    assert r.status_code == 200 and r.json()["is_success"] is True


def test_requests_past_the_rate_limit_get_429_with_retry_after(tmp_path: Path) -> None:
    server = Server(
        tmp_path / "data",
        env={"TRAINJOBS_RATE_LIMIT_PER_S": "2", "TRAINJOBS_RATE_LIMIT_BURST": "5"},
    ).start()
    try:
        codes = [server.client.get(f"{server.v1}/job/ai-engines").status_code for _ in range(12)]
        assert codes[:5] == [200] * 5 and 429 in codes
        refused = server.client.get(f"{server.v1}/job/ai-engines")
        body = assert_envelope(refused, 429, "ModelArts.2799")
        assert (
            int(refused.headers["Retry-After"]) >= 1
            and "requests a second" in body["error_message"]
        )
        # The bucket refills: wait for it, not for a fixed time.
        deadline = time.monotonic() + 30
        while server.client.get(f"{server.v1}/job/ai-engines").status_code == 429:
            assert time.monotonic() < deadline, "the rate limit never let a request through"
            time.sleep(int(refused.headers["Retry-After"]) / 4)
    finally:
        server.stop()
        server.drop()
