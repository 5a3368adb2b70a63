"""The console over HTTP: every route's authorization, CSRF refusal, and sessions that
end with their token."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute

from conftest import Server
from iam_helpers import make_user
from trainjobs.app import create_app
from trainjobs.domain.clock import now_ms
from trainjobs.settings import Settings
from webconsole.conftest import (
    add_project_token,
    csrf_of_page,
    make_job,
    sign_in_nonce,
    signed_in,
)

PAGE, FEED, ACTION = "page", "feed", "action"
# Whose data a route addresses: the first project's (another project must get 404), or
# the caller's own (another project sees only its own, never the first's).
THEIRS, OWN = "theirs", "own"
V = "/console/jobs/{job}/versions/{version}"

# Every console route that shows or changes a project's data: (method, path, kind, scope).
ROUTES = [
    pytest.param("GET", "/console/jobs", PAGE, OWN, id="jobs"),
    pytest.param("GET", "/console/jobs/{job}", PAGE, THEIRS, id="versions"),
    pytest.param("GET", "/console/jobs/{job}/versions.json", FEED, THEIRS, id="versions-feed"),
    pytest.param("GET", V, PAGE, THEIRS, id="version"),
    pytest.param("GET", V + "/new", PAGE, THEIRS, id="new-version-form"),
    pytest.param("POST", V + "/new", ACTION, THEIRS, id="new-version"),
    pytest.param("GET", V + "/status.json", FEED, THEIRS, id="version-feed"),
    pytest.param("GET", V + "/log.json?file={log}", FEED, THEIRS, id="log-feed"),
    pytest.param("GET", V + "/log/{log}", PAGE, THEIRS, id="log-file"),
    pytest.param("POST", V + "/stop", ACTION, THEIRS, id="stop"),
    pytest.param("POST", V + "/delete", ACTION, THEIRS, id="delete"),
    pytest.param("POST", V + "/save-config", ACTION, THEIRS, id="save-config"),
    pytest.param(
        "POST", "/console/jobs/{job}/versions/from-config", ACTION, THEIRS, id="from-config"
    ),
    pytest.param("POST", V + "/tensorboard", ACTION, THEIRS, id="open-tensorboard"),
    pytest.param("GET", "/console/jobs/{job}/compare?v={version}", PAGE, THEIRS, id="compare"),
    pytest.param("GET", "/console/configs", PAGE, OWN, id="configs"),
    pytest.param("GET", "/console/configs/{config}/new-job", PAGE, THEIRS, id="config-form"),
    pytest.param("POST", "/console/configs/{config}/new-job", ACTION, THEIRS, id="config-job"),
    pytest.param("GET", "/console/algorithms", PAGE, OWN, id="algorithms"),
    pytest.param("GET", "/console/algorithms/1/new-job", PAGE, OWN, id="algorithm-form"),
    pytest.param("POST", "/console/algorithms/1/new-job", ACTION, OWN, id="algorithm-job"),
    pytest.param("GET", "/console/visualization", PAGE, OWN, id="viz-list"),
    pytest.param("GET", "/console/visualization.json", FEED, OWN, id="viz-feed"),
    pytest.param("POST", "/console/visualization", ACTION, OWN, id="viz-create"),
    pytest.param("POST", "/console/visualization/{viz}/stop", ACTION, THEIRS, id="viz-action"),
    pytest.param("POST", "/console/sign-out", ACTION, OWN, id="sign-out"),
]
# Routes open to anyone: the sign-in form, redirects, the not-found page.
PUBLIC = {
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
    ("GET", "/console"),
    ("GET", "/console/{rest:path}"),
}


def test_the_route_table_covers_every_console_route(tmp_path: Path) -> None:
    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI's lazy include
            yield from walk(included.routes) if included is not None else [route]

    app = create_app(Settings(data_dir=tmp_path))
    served = {
        (method, route.path)
        for route in walk(app.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/console")
        for method in route.methods
    }
    listed = {(p.values[0], str(p.values[1]).split("?")[0]) for p in ROUTES}
    names = {
        "{job}": "{job_id}",
        "{version}": "{version_id}",
        "{log}": "{file}",
        "{config}": "{name}",
        "/1/": "/{model_id}/",
        "{viz}/stop": "{viz_id}/{action}",
    }
    for short, full in names.items():
        listed = {(m, p.replace(short, full)) for m, p in listed}
    assert served == listed | PUBLIC

def url_of(path: str, target: dict[str, Any]) -> str:
    return path.format(
        job=target["job_id"],
        version=target["version_id"],
        log=target["log"],
        config=target["config"],
        viz=target["viz"],
    )


def unchanged(server: Server, target: dict[str, Any]) -> None:
    """Nothing of the project changed: its version, its one version, its configurations."""
    assert version_exists(server, target)
    versions = server.client.get(f"{server.v1}/training-jobs/{target['job_id']}/versions").json()
    assert versions["version_count"] == 1
    configs = server.client.get(f"{server.v1}/training-job-configs").json()
    assert [c["config_name"] for c in configs["configs"]] == [target["config"]]
    jobs = server.client.get(f"{server.v1}/visualization-jobs").json()
    assert [j["job_name"] for j in jobs["jobs"]] == [f"tb{target['job_id']}"]


def version_exists(server: Server, target: dict[str, Any]) -> bool:
    url = f"{server.v1}/training-jobs/{target['job_id']}/versions/{target['version_id']}"
    return server.client.get(url).status_code == 200

@pytest.mark.parametrize("method,path,kind,scope", ROUTES)
def test_without_a_session_every_route_sends_to_sign_in(
    server: Server,
    target: dict[str, Any],
    anonymous: httpx.Client,
    method: str,
    path: str,
    kind: str,
    scope: str,
) -> None:
    response = anonymous.request(method, url_of(path, target), data={"csrf": "x"})
    if kind == FEED:
        assert response.status_code == 401
        assert response.json()["sign_in"].startswith("/console/sign-in?next=")
        return
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/console/sign-in")
    if method == "GET":  # the page asked for is remembered
        assert parse_qs(urlsplit(location).query)["next"] == [url_of(path, target)]
    unchanged(server, target)


@pytest.fixture(scope="module")
def outsider(server: Server) -> Iterator[httpx.Client]:
    """A session of another project of the same service."""
    client = signed_in(server, token=add_project_token(server))
    yield client
    client.close()


@pytest.mark.parametrize("method,path,kind,scope", ROUTES)
def test_another_projects_session_finds_nothing(
    server: Server,
    target: dict[str, Any],
    outsider: httpx.Client,
    method: str,
    path: str,
    kind: str,
    scope: str,
) -> None:
    if path == "/console/sign-out":
        pytest.skip("signing out acts on the session's own token only")
    data = {"csrf": csrf_of_page(outsider), "label_0": "lr", "value_0": "9",
            "config_name": "stolen", "train_url": "/trainjobs/x/"}  # fmt: skip
    response = outsider.request(method, url_of(path, target), data=data)
    if scope == THEIRS:
        assert response.status_code == 404, response.text
    else:  # its own (empty) lists, or a form refused for its missing fields
        assert response.status_code in (200, 303, 400), response.text
    for name in (target["job_name"], target["config"], f"tb{target['job_id']}"):
        if name not in url_of(path, target):  # a not-found page may echo the URL's own name
            assert name not in response.text
    unchanged(server, target)

@pytest.mark.parametrize(
    "path",
    [
        "/console/jobs/{job}/versions/{version}/new",
        "/console/jobs/{job}/versions/{version}/stop",
        "/console/jobs/{job}/versions/{version}/delete",
        "/console/jobs/{job}/versions/{version}/save-config",
        "/console/jobs/{job}/versions/from-config",
        "/console/jobs/{job}/versions/{version}/tensorboard",
        "/console/configs/{config}/new-job",
        "/console/visualization",
        "/console/visualization/{viz}/stop",
        "/console/sign-out",
    ],
)
@pytest.mark.parametrize("csrf", ["", "forged", "OTHER"])
def test_changes_without_the_csrf_token_are_refused(
    server: Server, target: dict[str, Any], member: httpx.Client, path: str, csrf: str
) -> None:
    if csrf == "OTHER":  # a valid token of another session does not do either
        other = signed_in(server, token=add_project_token(server, project_id=server.project_id))
        csrf = csrf_of_page(other)
        other.close()
    data = {"label_0": "lr", "value_0": "7", "job_name": "sneaky", "config_name": target["config"],
            "train_url": "/trainjobs/x/"}  # fmt: skip
    if csrf:
        data["csrf"] = csrf
    response = member.post(url_of(path, target), data=data)
    assert response.status_code == 403, response.text
    assert "security token" in response.text
    unchanged(server, target)
    assert member.get("/console/jobs").status_code == 200  # still signed in


def test_a_csrf_header_works_for_scripts(server: Server, member: httpx.Client) -> None:
    job = make_job(server, seconds=30)
    server.wait_status(job["job_id"], job["version_id"], {8})
    stop = f"/console/jobs/{job['job_id']}/versions/{job['version_id']}/stop"
    response = member.post(stop, headers={"X-CSRF-Token": csrf_of_page(member)})
    assert response.status_code == 303
    assert server.wait_status(job["job_id"], job["version_id"])["status"] == 12


def test_sign_in_needs_its_form_token(server: Server, anonymous: httpx.Client) -> None:
    refused = anonymous.post("/console/sign-in", data={"token": server.token})
    assert refused.status_code == 403
    assert "tj_session" not in anonymous.cookies
    sign_in_nonce(anonymous)  # the cookie half is set, the form half is not sent
    refused = anonymous.post("/console/sign-in", data={"token": server.token, "csrf": "x"})
    assert refused.status_code == 403


def test_password_sign_in_sets_a_strict_cookie_that_expires_with_its_token(
    server: Server, anonymous: httpx.Client
) -> None:
    user = make_user(server, password="console-pass-1")
    nonce = sign_in_nonce(anonymous)
    wrong = anonymous.post(
        "/console/sign-in",
        data={"csrf": nonce, "user": user["name"], "password": "nope", "domain": "default"},
    )
    assert wrong.status_code == 401
    assert "user name, domain or password is wrong" in wrong.text
    nonce = sign_in_nonce(anonymous)
    ok = anonymous.post(
        "/console/sign-in",
        data={
            "csrf": nonce,
            "user": user["name"],
            "password": "console-pass-1",
            "domain": "default",
            "next": "/console/jobs?search=x",
        },
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/console/jobs?search=x"
    cookie = next(
        v for k, v in ok.headers.multi_items() if k == "set-cookie" and v.startswith("tj_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/;" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 23 * 3600 < max_age <= 24 * 3600  # the token's lifetime
    assert user["name"] in anonymous.get("/console/jobs").text

    # Signing out revokes the token the console issued: the cookie is worth nothing after.
    token_cookie = anonymous.cookies["tj_session"]
    out = anonymous.post("/console/sign-out", data={"csrf": csrf_of_page(anonymous)})
    assert out.status_code == 303
    with httpx.Client(base_url=server.base, timeout=30) as replay:
        replay.cookies.set("tj_session", token_cookie, path="/console")
        again = replay.get("/console/jobs")
        assert again.status_code == 303 and "expired=1" in again.headers["location"]


def test_signing_out_keeps_a_pasted_project_token_valid(server: Server) -> None:
    client = signed_in(server, token=server.token)
    assert client.post("/console/sign-out", data={"csrf": csrf_of_page(client)}).status_code == 303
    assert client.get("/console/jobs").status_code == 303
    assert server.client.get(f"{server.v1}/training-jobs").status_code == 200
    client.close()


def test_an_expired_session_returns_to_sign_in_remembering_the_page(server: Server) -> None:
    token = add_project_token(server, project_id=server.project_id, expires_at=now_ms() + 1500)
    client = signed_in(server, token=token)
    assert client.get("/console/jobs?status=10").status_code == 200
    time.sleep(2)
    gone = client.get("/console/jobs?status=10")
    assert gone.status_code == 303
    location = gone.headers["location"]
    assert parse_qs(urlsplit(location).query)["next"] == ["/console/jobs?status=10"]
    page = client.get(location)
    assert 'name="next" value="/console/jobs?status=10"' in page.text
    client.close()


@pytest.mark.parametrize(
    "target_page", ["https://evil.example/", "//evil.example/x", "/v1/x", "/console/sign-out"]
)
def test_sign_in_never_redirects_off_the_console(
    server: Server, anonymous: httpx.Client, target_page: str
) -> None:
    nonce = sign_in_nonce(anonymous)
    done = anonymous.post(
        "/console/sign-in", data={"csrf": nonce, "token": server.token, "next": target_page}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/console/jobs"
