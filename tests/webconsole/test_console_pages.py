"""The console's pages over HTTP: any id, filter or form gets a page and not a crash,
offline API docs, what a version page and a comparison show, a new version from a
configuration."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Server
from webconsole.conftest import (
    TRAIN,
    csrf_of_page,
    make_job,
    sign_in_nonce,
)
from webconsole.test_console_server import url_of


def test_unknown_pages_and_ids_get_a_page_not_a_crash(member: httpx.Client) -> None:
    for path in ["/console/nowhere", "/console/jobs/999999", "/console/jobs/abc"]:
        response = member.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert "text/html" in response.headers["content-type"]
        assert "Back to the training jobs" in response.text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(search=st.text(max_size=80), status=st.text(max_size=20))
def test_any_filter_text_gets_a_page(member: httpx.Client, search: str, status: str) -> None:
    response = member.get("/console/jobs", params={"search": search, "status": status})
    assert response.status_code in (200, 400), response.text
    assert "text/html" in response.headers["content-type"]


def test_root_and_console_redirect_to_the_jobs(anonymous: httpx.Client) -> None:
    assert anonymous.get("/").headers["location"] == "/console/"
    assert anonymous.get("/console/").headers["location"] == "/console/jobs"


def test_api_docs_load_nothing_from_the_internet(anonymous: httpx.Client) -> None:
    html = anonymous.get("/docs").text
    assert "cdn." not in html and "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert anonymous.get(asset).status_code == 200, asset
    assert anonymous.get("/redoc").status_code == 404


def test_the_version_page_shows_what_the_run_reported(
    server: Server, member: httpx.Client, target: dict[str, Any]
) -> None:
    page = member.get(url_of("/console/jobs/{job}/versions/{version}", target)).text
    assert "Completed" in page and "cat" in page and "dog" in page
    feed = member.get(url_of("/console/jobs/{job}/versions/{version}/status.json", target)).json()
    assert feed["status"] == 10 and feed["metrics"]["total"]["accuracy"] == pytest.approx(0.6)
    log = member.get(url_of("/console/jobs/{job}/versions/{version}/log.json?file={log}", target))
    assert "training with lr 0.1" in log.json()["content"]
    download = member.get(url_of("/console/jobs/{job}/versions/{version}/log/{log}", target))
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.text.startswith(log.json()["content"][:20]) or "done" in download.text
    assert (
        member.get(
            url_of("/console/jobs/{job}/versions/{version}/log/elsewhere", target)
        ).status_code
        == 404
    )


def test_compare_shows_a_diff_of_the_code_when_it_differs(
    server: Server, member: httpx.Client
) -> None:
    first = make_job(server)
    job_id = first["job_id"]
    server.wait_status(job_id, first["version_id"])
    changed = TRAIN.replace('print("done", flush=True)', 'print("all done", flush=True)')
    app_url, boot = server.upload_script(changed)
    second = server.client.post(
        f"{server.v1}/training-jobs/{job_id}/versions",
        json={"config": {"app_url": app_url, "boot_file_url": boot}},
    ).json()
    server.wait_status(job_id, second["version_id"])
    page = member.get(
        f"/console/jobs/{job_id}/compare?v={second['version_id']}&v={first['version_id']}"
    ).text
    assert "V0001 → V0002" in page
    assert '<span class="del">-print(&#34;done&#34;, flush=True)</span>' in page
    assert '<span class="add">+print(&#34;all done&#34;, flush=True)</span>' in page
    same = member.get(
        f"/console/jobs/{job_id}/compare?v={first['version_id']}&v={first['version_id']}"
    )
    assert "Pick two or more versions" in same.text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    user=st.text(max_size=70),
    password=st.text(max_size=70),
    domain=st.text(max_size=70),
    token=st.text(max_size=70),
    next_page=st.text(max_size=70),
)
def test_any_sign_in_text_gets_the_form_back(
    anonymous: httpx.Client, user: str, password: str, domain: str, token: str, next_page: str
) -> None:
    nonce = sign_in_nonce(anonymous)
    fields = {"user": user, "password": password, "domain": domain, "token": token}
    response = anonymous.post("/console/sign-in", data={"csrf": nonce, "next": next_page, **fields})
    assert response.status_code in (400, 401), response.text
    assert "text/html" in response.headers["content-type"]
    assert "tj_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "body",
    [
        b"user=\xed\xa0\x80&password=x",
        b"user=%ED%A0%80&password=%00%01",
        b"\xff\xfe",
        b"a" * 300_000,
    ],
)
def test_undecodable_forms_get_a_page_not_a_crash(anonymous: httpx.Client, body: bytes) -> None:
    nonce = sign_in_nonce(anonymous)
    sent = body + b"&csrf=" + nonce.encode()
    response = anonymous.post(
        "/console/sign-in",
        content=sent,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (400, 401, 413), response.text
    assert "Traceback" not in response.text


def test_a_new_version_from_a_configuration(server: Server, member: httpx.Client) -> None:
    job = make_job(server, lr="0.1")
    server.wait_status(job["job_id"], job["version_id"])
    detail = server.version(job["job_id"], job["version_id"])
    config = f"from-{job['job_id']}"
    made = server.client.post(
        f"{server.v1}/training-job-configs",
        json={"config_name": config, "app_url": detail["app_url"],
              "boot_file_url": detail["boot_file_url"], "spec_id": 1, "worker_server_num": 1,
              "parameter": [{"label": "lr", "value": "0.45"}]},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    versions_page = member.get(f"/console/jobs/{job['job_id']}").text
    assert f'<option value="{config}">' in versions_page
    done = member.post(
        f"/console/jobs/{job['job_id']}/versions/from-config",
        data={"csrf": csrf_of_page(member), "config_name": config},
    )
    assert done.status_code == 303, done.text
    new_id = int(done.headers["location"].rsplit("/", 1)[1])
    version = server.wait_status(job["job_id"], new_id)
    assert version["status"] == 10
    assert version["parameter"] == [{"label": "lr", "value": "0.45"}]
    assert version["train_url"].endswith("/V0002/output/")
