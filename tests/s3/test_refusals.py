"""What the endpoint refuses, and how: S3's XML errors with S3's codes, never a 500."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import xmltodict
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Server
from iam_helpers import make_project, make_user
from s3.conftest import boto_client


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def s3_error(response: httpx.Response) -> dict[str, Any]:
    """The S3 XML error of a response (never a 500, never anything else)."""
    assert response.status_code < 500 or response.status_code == 501, response.text
    body: dict[str, Any] = xmltodict.parse(response.content)["Error"]
    assert body["Code"] and body["RequestId"]
    return body


def signed(
    server: Server,
    user: dict[str, Any],
    method: str,
    raw_path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> httpx.Response:
    """A request signed by botocore, sent as signed (path already percent-encoded)."""
    request = AWSRequest(
        method=method, url=server.obs_endpoint + raw_path, data=body, headers=headers or {}
    )
    S3SigV4Auth(Credentials(user["access_key"], user["secret_key"]), "s3", "us-east-1").add_auth(
        request
    )
    prepared = request.prepare()
    sent = {k: v.encode("latin-1") for k, v in prepared.headers.items()}
    return httpx.request(method, prepared.url, headers=sent, content=body, timeout=30)


def test_a_wrong_secret_is_signature_does_not_match(server: Server, user: dict[str, Any]) -> None:
    wrong = boto_client(server, user["access_key"], "x" + user["secret_key"][1:].swapcase())
    with pytest.raises(ClientError) as refused:
        wrong.list_buckets()
    assert code_of(refused.value) == "SignatureDoesNotMatch"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unknown_key_is_invalid_access_key_id(server: Server) -> None:
    with pytest.raises(ClientError) as refused:
        boto_client(server, "NOSUCHKEY0000000000X", "secret").list_buckets()
    assert code_of(refused.value) == "InvalidAccessKeyId"


def test_unsigned_and_other_schemes_are_refused(server: Server) -> None:
    anonymous = httpx.get(server.obs_endpoint + "/")
    assert anonymous.status_code == 403 and s3_error(anonymous)["Code"] == "AccessDenied"
    v2 = httpx.get(server.obs_endpoint + "/", headers={"Authorization": "AWS AK:c2ln"})
    assert v2.status_code == 400 and s3_error(v2)["Code"] == "InvalidRequest"
    # HEAD answers carry no body, only the status.
    assert httpx.head(server.obs_endpoint + "/bucket/key").status_code == 403


def test_a_request_signed_long_ago_is_request_time_too_skewed(server: Server) -> None:
    stamp = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "x-amz-date": stamp,
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AK/{stamp[:8]}/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
    }
    skewed = httpx.get(server.obs_endpoint + "/", headers=headers)
    assert skewed.status_code == 403 and s3_error(skewed)["Code"] == "RequestTimeTooSkewed"


def test_another_projects_bucket_is_access_denied(server: Server, s3: Any) -> None:
    other = make_project(server)
    outsider = make_user(server, (other["name"],), with_aksk=True)
    theirs = boto_client(server, outsider["access_key"], outsider["secret_key"])
    name = f"theirs-{uuid.uuid4().hex[:8]}"
    theirs.create_bucket(Bucket=name)
    theirs.put_object(Bucket=name, Key="secret.txt", Body=b"not yours")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    for attempt in (
        lambda: s3.get_object(Bucket=name, Key="secret.txt"),
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.put_object(Bucket=name, Key="mine.txt", Body=b"x"),
    ):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert code_of(refused.value) == "AccessDenied"
    with pytest.raises(ClientError) as missing:
        s3.list_objects_v2(Bucket=f"nobody-{uuid.uuid4().hex[:8]}")
    assert code_of(missing.value) == "NoSuchBucket", missing.value.response
    # Their object stayed theirs, in their project's namespace.
    assert (server.data_dir / "obs" / other["id"] / name / "secret.txt").read_bytes() == (
        b"not yours"
    )


def test_a_body_that_differs_from_its_signed_hash_is_refused(
    server: Server, user: dict[str, Any], bucket: str
) -> None:
    request = AWSRequest(method="PUT", url=f"{server.obs_endpoint}/{bucket}/k", data=b"signed")
    S3SigV4Auth(Credentials(user["access_key"], user["secret_key"]), "s3", "us-east-1").add_auth(
        request
    )
    headers = dict(request.prepare().headers.items())
    sent = httpx.put(f"{server.obs_endpoint}/{bucket}/k", headers=headers, content=b"swaped")
    assert sent.status_code == 400
    assert s3_error(sent)["Code"] == "XAmzContentSHA256Mismatch"
    assert not (server.obs_dir / bucket / "k").exists()


def test_keys_that_cannot_be_stored_are_refused(
    server: Server, user: dict[str, Any], bucket: str
) -> None:
    for raw in ("a/%2E%2E/b", "a//b", "x%5Cy", "tab%09key", quote("é" * 600)):
        refused = signed(server, user, "PUT", f"/{bucket}/{raw}", body=b"1")
        assert s3_error(refused)["Code"] in ("InvalidArgument", "KeyTooLongError"), raw
    not_utf8 = signed(server, user, "GET", f"/{bucket}/%FF%FE")
    assert s3_error(not_utf8)["Code"] == "InvalidURI"


# What a client can send in a header: no edge spaces (HTTP strips them, and h11 refuses them).
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
).map(lambda text: text.strip(" "))
KEY_TEXT = st.text(max_size=60)  # any code point, surrogates and control characters too


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=KEY_TEXT,
    method=st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "POST"]),
    header=HEADER_TEXT,
    query=KEY_TEXT,
)
def test_any_key_header_or_query_gets_an_s3_answer_never_a_500(
    server: Server,
    user: dict[str, Any],
    bucket: str,
    key: str,
    method: str,
    header: str,
    query: str,
) -> None:
    path = quote(key.encode("utf-8", "surrogatepass"), safe="/")
    raw = f"/{bucket}/{path}?{quote(query.encode('utf-8', 'surrogatepass'))}=1"
    headers = {"x-amz-meta-note": header, "range": header, "x-amz-copy-source": header}
    response = signed(server, user, method, raw, headers, b"body" if method == "PUT" else b"")
    if response.status_code >= 300 and method != "HEAD":
        s3_error(response)
    assert response.status_code < 500 or response.status_code == 501, response.text
    raw_headers = {k: v.encode("latin-1") for k, v in headers.items()}
    unsigned = httpx.request(method, server.obs_endpoint + raw, headers=raw_headers, timeout=30)
    assert unsigned.status_code == 403
