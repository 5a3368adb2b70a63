"""AK/SK request signing (SDK-HMAC-SHA256) on the v1 API, against a real server.

Requests are signed two ways: by ``sign`` below, written from the scheme's
description and sharing no code with the server's verifier, and by
``huaweicloudsdkcore``'s own ``Signer`` from PyPI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from conftest import Server, assert_envelope
from iam_helpers import make_project, make_user, server_log
from trainjobs.domain.signing import REPEAT_WINDOW_S, ReplayGuard

UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
BAD_SIGNATURE = "ModelArts.0203"


# -- an independent signer -----------------------------------------------------------


def pct(text: str) -> str:
    """RFC 3986 percent-encoding of everything but the unreserved characters."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode())


def sign(
    ak: str,
    sk: str,
    method: str,
    path: str,
    query: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    when: datetime | None = None,
) -> dict[str, str]:
    """Headers that sign the request: the caller's, plus X-Sdk-Date and Authorization."""
    moment = when or datetime.now(UTC)
    out = dict(headers or {})
    out["X-Sdk-Date"] = moment.strftime("%Y%m%dT%H%M%SZ")
    lowered = {k.lower(): v.strip() for k, v in out.items()}
    names = sorted(lowered)
    uri = "/".join(pct(part) for part in path.split("/"))
    if not uri.endswith("/"):
        uri += "/"
    encoded = sorted((pct(k), pct(v)) for k, v in (query or []))
    lines = [
        method.upper(),
        uri,
        "&".join(f"{k}={v}" for k, v in encoded),
        "".join(f"{n}:{lowered[n]}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ]
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    to_sign = f"SDK-HMAC-SHA256\n{out['X-Sdk-Date']}\n{digest}"
    signature = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


class Signed:
    """Sends requests signed by ``sign`` with one user's AK/SK."""

    def __init__(self, server: Server, ak: str, sk: str) -> None:
        self.server, self.ak, self.sk = server, ak, sk
        self.host = f"127.0.0.1:{server.port}"

    def prepare(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        when: datetime | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        content = json.dumps(body).encode() if body is not None else b""
        headers = {"Host": self.host}
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers = sign(self.ak, self.sk, method, path, query, headers, content, when)
        url = f"{self.server.base}{path}"
        if query:
            url += "?" + "&".join(f"{pct(k)}={pct(v)}" for k, v in query)
        return url, headers, content

    def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes
    ) -> httpx.Response:
        return httpx.request(method, url, headers=headers, content=content, timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url, headers, content = self.prepare(method, path, **kwargs)
        return self.send(method, url, headers, content)


def sdk_request(
    server: Server,
    ak: str,
    sk: str,
    method: str,
    path: str,
    query: list[tuple[str, Any]] | None = None,
    body: Any = None,
) -> httpx.Response:
    """Sign with huaweicloudsdkcore's Signer, as its service clients do, and send."""
    headers = {"Content-Type": "application/json;charset=UTF-8"} if body is not None else {}
    request = SdkRequest(
        method=method,
        schema="http",
        host=f"127.0.0.1:{server.port}",
        resource_path=path,
        query_params=query or [],
        header_params=headers,
        body=json.dumps(body) if body is not None else "",
    )
    Signer(BasicCredentials(ak, sk)).sign(request)
    return httpx.request(
        request.method,
        f"{request.schema}://{request.host}{request.uri}",
        headers=request.header_params,
        content=request.body or b"",
        timeout=30,
    )


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def user(server: Server) -> dict[str, Any]:
    return make_user(server, with_aksk=True)


@pytest.fixture
def signed(server: Server, user: dict[str, Any]) -> Signed:
    return Signed(server, user["access_key"], user["secret_key"])


@pytest.fixture(scope="module")
def code(server: Server) -> Iterator[tuple[str, str]]:
    yield server.upload_script("pass\n")


def job_body(code: tuple[str, str]) -> dict[str, Any]:
    app_url, boot = code
    return {"job_name": f"signed-{uuid.uuid4().hex[:8]}",
            "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot, "spec_id": 1}}  # fmt: skip


def job_names(server: Server) -> set[str]:
    body = server.client.get(f"{server.v1}/training-jobs", params={"per_page": 1000}).json()
    return {job["job_name"] for job in body["jobs"]}


# -- accepted ------------------------------------------------------------------------


def test_signed_get_needs_no_token(server: Server, signed: Signed) -> None:
    r = signed.request("GET", f"{server.v1}/training-jobs")
    assert r.status_code == 200, r.text
    assert r.json()["is_success"] is True


def test_signed_get_with_a_query(server: Server, signed: Signed) -> None:
    query = [("search_content", "a b+c/é"), ("per_page", "5"), ("page", "1")]
    r = signed.request("GET", f"{server.v1}/training-jobs", query=query)
    assert r.status_code == 200, r.text


def test_signed_post_creates_a_job(server: Server, signed: Signed, code: tuple[str, str]) -> None:
    body = job_body(code)
    r = signed.request("POST", f"{server.v1}/training-jobs", body=body)
    assert r.status_code == 200, r.text
    created = r.json()
    assert body["job_name"] in job_names(server)
    r = signed.request(
        "GET", f"{server.v1}/training-jobs/{created['job_id']}/versions/{created['version_id']}"
    )
    assert r.status_code == 200 and r.json()["job_name"] == body["job_name"]


def test_trailing_slash_is_signed_as_sent(server: Server, signed: Signed) -> None:
    r = signed.request("GET", f"{server.v1}/job/ai-engines/")
    assert r.status_code == 200, r.text


def test_date_within_the_allowed_skew_is_accepted(server: Server, signed: Signed) -> None:
    for offset in (timedelta(minutes=-10), timedelta(minutes=10)):
        r = signed.request(
            "GET", f"{server.v1}/job/resource-specs", when=datetime.now(UTC) + offset
        )
        assert r.status_code == 200, r.text


def test_huaweicloudsdkcore_signer_is_accepted(
    server: Server, user: dict[str, Any], code: tuple[str, str]
) -> None:
    ak, sk = user["access_key"], user["secret_key"]
    r = sdk_request(server, ak, sk, "GET", f"{server.v1}/training-jobs",
                    query=[("per_page", 10), ("search_content", "signed x")])  # fmt: skip
    assert r.status_code == 200, r.text
    body = job_body(code)
    r = sdk_request(server, ak, sk, "POST", f"{server.v1}/training-jobs", body=body)
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    r = sdk_request(
        server, ak, sk, "PUT", f"{server.v1}/training-jobs/{job_id}", body={"job_desc": "signed"}
    )
    assert r.status_code == 200, r.text
    r = sdk_request(server, ak, sk, "DELETE", f"{server.v1}/training-jobs/{job_id}")
    assert r.status_code == 200, r.text
    assert body["job_name"] not in job_names(server)


def test_huaweicloudsdkcore_signer_lists_projects_by_name(
    server: Server, user: dict[str, Any]
) -> None:
    # What the SDK does to find a project id from a region name.
    r = sdk_request(server, user["access_key"], user["secret_key"], "GET", "/v3/projects",
                    query=[("name", "default")])  # fmt: skip
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["projects"]] == [server.project_id]


# -- refused -------------------------------------------------------------------------


def refused(response: httpx.Response, status: int = 401, code: str = BAD_SIGNATURE) -> str:
    return str(assert_envelope(response, status, code)["error_message"])


def test_tampered_body_is_refused_and_creates_nothing(
    server: Server, signed: Signed, code: tuple[str, str]
) -> None:
    body = job_body(code)
    url, headers, content = signed.prepare("POST", f"{server.v1}/training-jobs", body=body)
    forged = content.replace(body["job_name"].encode(), b"forged-" + body["job_name"][7:].encode())
    assert forged != content
    assert "does not match" in refused(signed.send("POST", url, headers, forged))
    assert "does not match" in refused(signed.send("POST", url, headers, content + b" "))
    names = job_names(server)
    assert body["job_name"] not in names and "forged-" + body["job_name"][7:] not in names
    # The genuine request, refused nowhere, still goes through afterwards.
    assert signed.send("POST", url, headers, content).status_code == 200


def test_tampered_header_is_refused(server: Server, signed: Signed) -> None:
    url, headers, content = signed.prepare("GET", f"{server.v1}/training-jobs")
    refused(signed.send("GET", url, {**headers, "Host": "evil.example:80"}, content))
    extra = sign(signed.ak, signed.sk, "GET", f"{server.v1}/training-jobs",
                 headers={"Host": signed.host, "X-Project-Id": server.project_id})  # fmt: skip
    refused(signed.send("GET", url, {**extra, "X-Project-Id": "someone-else"}, b""))
    missing = {k: v for k, v in extra.items() if k != "X-Project-Id"}
    assert "not in the request" in refused(signed.send("GET", url, missing, b""))


def test_tampered_path_query_or_method_is_refused(
    server: Server, signed: Signed, code: tuple[str, str]
) -> None:
    url, headers, content = signed.prepare(
        "GET", f"{server.v1}/training-jobs", query=[("per_page", "5")]
    )
    refused(signed.send("GET", url.replace("training-jobs", "job/ai-engines"), headers, content))
    refused(signed.send("GET", url.replace("per_page=5", "per_page=6"), headers, content))
    refused(signed.send("GET", url + "&page=1", headers, content))
    job = server.client.post(f"{server.v1}/training-jobs", json=job_body(code)).json()
    version = f"{server.v1}/training-jobs/{job['job_id']}/versions/{job['version_id']}"
    url, headers, content = signed.prepare("GET", version)
    refused(signed.send("DELETE", url, headers, content))
    assert server.client.get(version).status_code == 200  # still there


def test_wrong_secret_or_unknown_access_key_is_refused(
    server: Server, user: dict[str, Any]
) -> None:
    wrong_sk = Signed(server, user["access_key"], user["secret_key"][::-1])
    assert "does not match" in refused(wrong_sk.request("GET", f"{server.v1}/training-jobs"))
    unknown = Signed(server, "NOSUCHACCESSKEY00000", user["secret_key"])
    assert "unknown" in refused(unknown.request("GET", f"{server.v1}/training-jobs"))


@pytest.mark.parametrize(
    "authorization",
    [
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host",
        "SDK-HMAC-SHA256 garbage",
        "SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature=",
    ],
    ids=["no-signature", "garbage", "empty-fields"],
)
def test_malformed_authorization_is_refused(server: Server, authorization: str) -> None:
    headers = {
        "Authorization": authorization,
        "X-Sdk-Date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
    }
    r = httpx.get(f"{server.base}{server.v1}/training-jobs", headers=headers, timeout=30)
    refused(r)


def test_stale_or_future_date_is_refused(server: Server, signed: Signed) -> None:
    for offset in (timedelta(minutes=-20), timedelta(minutes=20), timedelta(days=-1)):
        r = signed.request("GET", f"{server.v1}/training-jobs", when=datetime.now(UTC) + offset)
        message = refused(r)
        assert "X-Sdk-Date" in message and "900 s" in message


def test_missing_or_malformed_date_is_refused(server: Server, signed: Signed) -> None:
    url, headers, content = signed.prepare("GET", f"{server.v1}/training-jobs")
    without = {k: v for k, v in headers.items() if k != "X-Sdk-Date"}
    assert "X-Sdk-Date" in refused(signed.send("GET", url, without, content))
    reformatted = {**headers, "X-Sdk-Date": datetime.now(UTC).isoformat()}
    assert "YYYYMMDDTHHMMSSZ" in refused(signed.send("GET", url, reformatted, content))


def test_identical_signed_reads_are_all_answered(server: Server, signed: Signed) -> None:
    # One signature sent three times: what a poller does within one second.
    url, headers, content = signed.prepare("GET", f"{server.v1}/training-jobs")
    for _ in range(3):
        assert signed.send("GET", url, headers, content).status_code == 200


def test_identical_signed_changes_sent_together_are_all_answered(
    server: Server, signed: Signed, code: tuple[str, str]
) -> None:
    created = server.client.post(f"{server.v1}/training-jobs", json=job_body(code)).json()
    path = f"{server.v1}/training-jobs/{created['job_id']}/versions"
    url, headers, content = signed.prepare("POST", path, body={"config": {}})
    first = signed.send("POST", url, headers, content)
    second = signed.send("POST", url, headers, content)
    assert first.status_code == second.status_code == 200, second.text
    assert first.json()["version_id"] != second.json()["version_id"]


def test_a_change_replayed_later_is_refused(
    server: Server, signed: Signed, code: tuple[str, str]
) -> None:
    url, headers, content = signed.prepare(
        "POST", f"{server.v1}/training-jobs", body=job_body(code)
    )
    assert signed.send("POST", url, headers, content).status_code == 200
    # Past the window in which a client could have sent it again itself.
    time.sleep(REPEAT_WINDOW_S + 0.5)
    assert "replay" in refused(signed.send("POST", url, headers, content))
    # The same request signed anew is a new request.
    later = datetime.now(UTC) + timedelta(seconds=2)
    assert signed.request("GET", f"{server.v1}/training-jobs", when=later).status_code == 200


def test_replay_guard_times_repeats_from_the_first_receipt() -> None:
    guard = ReplayGuard(repeat_window_s=3.0)
    until = 1_000.0
    assert guard.admit("POST", "sig", until, now_s=100.0)
    assert guard.admit("POST", "sig", until, now_s=102.9)  # sent again within the window
    assert not guard.admit("POST", "sig", until, now_s=103.1)  # from then on: a replay
    assert not guard.admit("DELETE", "sig", until, now_s=500.0)
    assert guard.admit("GET", "sig", until, now_s=500.0)  # reads never
    assert guard.admit("POST", "sig", until, now_s=1_000.5)  # run out: its date is refused anyway
    small = ReplayGuard(capacity=2, repeat_window_s=0.0)
    for n in range(5):
        assert small.admit("PUT", f"s{n}", until, now_s=1.0)
    assert len(small._seen) <= 2


def test_signer_of_another_project_is_403_0210(server: Server) -> None:
    other = make_project(server)
    outsider = make_user(server, (other["name"],), with_aksk=True)
    client = Signed(server, outsider["access_key"], outsider["secret_key"])
    refused(client.request("GET", f"{server.v1}/training-jobs"), 403, "ModelArts.0210")
    assert client.request("GET", f"/v1/{other['id']}/training-jobs").status_code == 200


def test_unsigned_payload_is_refused(server: Server, signed: Signed, code: tuple[str, str]) -> None:
    body = json.dumps(job_body(code)).encode()
    headers = sign(signed.ak, signed.sk, "POST", f"{server.v1}/training-jobs",
                   headers={"Host": signed.host, "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"})  # fmt: skip
    r = signed.send("POST", f"{server.base}{server.v1}/training-jobs", headers, body)
    assert "unsigned payloads" in refused(r)


def test_skew_is_configurable(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={"TRAINJOBS_SIGNATURE_SKEW_S": "60"}).start()
    try:
        user = make_user(srv, with_aksk=True)
        client = Signed(srv, user["access_key"], user["secret_key"])
        two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)
        assert "60 s" in refused(
            client.request("GET", f"{srv.v1}/training-jobs", when=two_minutes_ago)
        )
        assert client.request("GET", f"{srv.v1}/training-jobs").status_code == 200
    finally:
        srv.stop()


def test_secret_key_never_reaches_the_server_log(
    server: Server, signed: Signed, user: dict[str, Any]
) -> None:
    signed.request("GET", f"{server.v1}/training-jobs")
    Signed(server, user["access_key"], "wrong" + user["secret_key"]).request(
        "GET", f"{server.v1}/training-jobs"
    )
    assert user["secret_key"] not in server_log(server)
