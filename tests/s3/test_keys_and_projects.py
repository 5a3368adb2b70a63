"""Temporary keys (for a token, for a run) and the project walls of the endpoint."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from conftest import Server
from iam_helpers import make_project, make_user, password_auth
from s3.conftest import boto_client
from s3.test_refusals import s3_error, signed
from trainjobs.domain.object_keys import LOOKUP_CACHE_S, TemporaryKeys
from trainjobs.store.database import Database

ISSUE = "/v3.0/OS-CREDENTIAL/securitytokens"


def issue(server: Server, token: str, duration_s: int = 900) -> httpx.Response:
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": duration_s}}}}
    return httpx.post(server.base + ISSUE, json=body, headers={"X-Auth-Token": token}, timeout=30)


def test_a_token_buys_a_temporary_key_of_its_project(server: Server, bucket: str) -> None:
    issued = issue(server, server.token)
    assert issued.status_code == 201, issued.text
    credential = issued.json()["credential"]
    assert credential["project_id"] == server.project_id
    assert credential["obs_endpoint"] == server.obs_endpoint
    s3 = boto_client(server, credential["access"], credential["secret"])
    s3.put_object(Bucket=bucket, Key="temp.txt", Body=b"via a temporary key")
    assert (server.obs_dir / bucket / "temp.txt").read_bytes() == b"via a temporary key"


def test_a_temporary_key_dies_with_its_revoked_token(server: Server, bucket: str) -> None:
    user = make_user(server, password="long-enough-pw")
    token = httpx.post(
        server.base + "/v3/auth/tokens", json=password_auth(user), timeout=30
    ).headers["X-Subject-Token"]
    credential = issue(server, token).json()["credential"]
    s3 = boto_client(server, credential["access"], credential["secret"])
    s3.head_bucket(Bucket=bucket)
    revoked = httpx.delete(
        server.base + "/v3/auth/tokens",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=30,
    )
    assert revoked.status_code == 204
    time.sleep(LOOKUP_CACHE_S + 0.5)
    with pytest.raises(ClientError) as refused:
        s3.list_objects_v2(Bucket=bucket)
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_bad_requests_for_a_key_are_refused(server: Server) -> None:
    assert issue(server, "not-a-token").status_code == 401
    assert issue(server, server.token, duration_s=10).status_code == 400


def test_a_runs_key_works_until_revoked(server: Server, bucket: str) -> None:
    keys = TemporaryKeys(
        Database(server.database_url, secret_key_file=server.data_dir / "secret.key")
    )
    version_id = 10**9 + int(uuid.uuid4().int % 10**6)
    ak, sk = keys.issue(server.project_id, version_id)
    s3 = boto_client(server, ak, sk)
    s3.put_object(Bucket=bucket, Key="run/out.txt", Body=b"from a run")
    keys.revoke(version_id)
    time.sleep(LOOKUP_CACHE_S + 0.5)
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=bucket, Key="run/out.txt")
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"


# Every operation of the endpoint, aimed by an outsider at this project's bucket.
S3_ROUTES = [
    pytest.param("GET", "/{bucket}", {}, id="list-objects-v1"),
    pytest.param("GET", "/{bucket}?list-type=2", {}, id="list-objects-v2"),
    pytest.param("GET", "/{bucket}?location", {}, id="bucket-location"),
    pytest.param("HEAD", "/{bucket}", {}, id="head-bucket"),
    pytest.param("DELETE", "/{bucket}", {}, id="delete-bucket"),
    pytest.param("POST", "/{bucket}?delete", {}, id="delete-objects"),
    pytest.param("PUT", "/{bucket}/k.txt", {}, id="put-object"),
    pytest.param("GET", "/{bucket}/k.txt", {}, id="get-object"),
    pytest.param("HEAD", "/{bucket}/k.txt", {}, id="head-object"),
    pytest.param("DELETE", "/{bucket}/k.txt", {}, id="delete-object"),
    pytest.param(
        "PUT", "/{bucket}/copy.txt", {"x-amz-copy-source": "/{bucket}/k.txt"}, id="copy-object"
    ),
    pytest.param("POST", "/{bucket}/m.bin?uploads", {}, id="create-multipart"),
    pytest.param("PUT", "/{bucket}/m.bin?partNumber=1&uploadId={upload}", {}, id="upload-part"),
    pytest.param("GET", "/{bucket}/m.bin?uploadId={upload}", {}, id="list-parts"),
    pytest.param("POST", "/{bucket}/m.bin?uploadId={upload}", {}, id="complete-multipart"),
    pytest.param("DELETE", "/{bucket}/m.bin?uploadId={upload}", {}, id="abort-multipart"),
]


@pytest.fixture(scope="module")
def walled(server: Server, s3: Any) -> dict[str, str]:
    """This project's bucket with an object and an upload, and an outsider's key."""
    name = f"walled-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k.txt", Body=b"ours")
    upload = s3.create_multipart_upload(Bucket=name, Key="m.bin")["UploadId"]
    other = make_project(server)
    outsider = make_user(server, (other["name"],), with_aksk=True)
    return {"bucket": name, "upload": upload, **outsider}


@pytest.mark.parametrize(("method", "path", "headers"), S3_ROUTES)
def test_another_projects_key_is_access_denied_on_every_operation(
    server: Server,
    s3: Any,
    walled: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    def fill(text: str) -> str:
        return text.format(bucket=walled["bucket"], upload=walled["upload"])

    body = b"<Delete><Object><Key>k.txt</Key></Object></Delete>" if "delete" in path else b"x"
    response = signed(
        server, walled, method, fill(path), {k: fill(v) for k, v in headers.items()}, body
    )
    assert response.status_code == 403, response.text
    if method != "HEAD":
        assert s3_error(response)["Code"] == "AccessDenied"
    # Nothing of this project changed.
    assert s3.get_object(Bucket=walled["bucket"], Key="k.txt")["Body"].read() == b"ours"
    s3.list_parts(Bucket=walled["bucket"], Key="m.bin", UploadId=walled["upload"])
