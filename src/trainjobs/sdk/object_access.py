"""Which object store a client uses, and how it reaches it.

Beside the server (its data dir, with ``credentials.json``, is on this
machine) the client opens the store the server recorded, as the server does.
Anywhere else it goes through the server's S3-compatible object endpoint,
signing with an access key (``TRAINJOBS_ACCESS_KEY_ID`` /
``TRAINJOBS_SECRET_ACCESS_KEY``, or the Session's ``access_key`` /
``secret_key``) or, holding only a token, with a temporary key the server
issues for it. It never falls back to a local folder the server does not read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from trainjobs.objectstore import ObjectStore, location
from trainjobs.objectstore.store import StoreUnavailable
from trainjobs.sdk.discovery import CREDENTIALS_FILE, ENV_ENDPOINT, ENV_TOKEN, read_credentials_file
from trainjobs.sdk.errors import CredentialsNotFound

ENV_ACCESS_KEY = "TRAINJOBS_ACCESS_KEY_ID"
ENV_SECRET_KEY = "TRAINJOBS_SECRET_ACCESS_KEY"
ENV_OBJECT_ENDPOINT = "TRAINJOBS_OBJECT_ENDPOINT"
TEMPORARY_KEYS = "/v3.0/OS-CREDENTIAL/securitytokens"
TEMPORARY_KEY_S = 24 * 3600  # the longest the server grants; never past the token's end
SIGNING_REGION = "us-east-1"  # any region is accepted; botocore's default


@dataclass(frozen=True)
class Access:
    """What a client knows about reaching the store."""

    data_dir: Path
    project_id: str
    endpoint: str = ""  # the trainjobs API's URL
    token: str = field(default="", repr=False)
    access_key: str = ""
    secret_key: str = field(default="", repr=False)
    object_endpoint: str = ""  # the S3-compatible endpoint's URL, when known


def beside_server(data_dir: Path, endpoint: str = "") -> bool:
    """Whether the server's data dir is on this machine (and the server named is that one).

    ``serve`` writes ``store.json`` and ``credentials.json`` there on start; a folder
    without either is no server's, whatever its name."""
    stored = read_credentials_file(data_dir)
    if not stored.get("project_id"):
        return (data_dir / location.STORE_FILE).is_file() and not endpoint
    return not endpoint or endpoint.rstrip("/") == stored.get("endpoint", "").rstrip("/")


def from_environment(access: Access) -> Access:
    """``access`` completed from the environment where it leaves something out."""
    env = os.environ
    return Access(
        data_dir=access.data_dir,
        project_id=access.project_id,
        endpoint=access.endpoint or env.get(ENV_ENDPOINT, ""),
        token=access.token or env.get(ENV_TOKEN, ""),
        access_key=access.access_key or env.get(ENV_ACCESS_KEY, ""),
        secret_key=access.secret_key or env.get(ENV_SECRET_KEY, ""),
        object_endpoint=access.object_endpoint or env.get(ENV_OBJECT_ENDPOINT, ""),
    )


def open_store(access: Access) -> ObjectStore:
    """The project's namespace, on disk beside the server or through its endpoint."""
    access = from_environment(access)
    if beside_server(access.data_dir, access.endpoint):
        where = location.for_clients(access.data_dir)
        return ObjectStore.from_url(where.url, endpoint=where.endpoint).for_project(
            access.project_id
        )
    return through_endpoint(access)


def temporary_key(endpoint: str, token: str, timeout_s: float = 30) -> dict[str, Any]:
    """A temporary access key for ``token`` (with the endpoint's URL), from the server."""
    body = {
        "auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": TEMPORARY_KEY_S}}}
    }
    try:
        response = httpx.post(
            f"{endpoint.rstrip('/')}{TEMPORARY_KEYS}",
            json=body,
            headers={"X-Auth-Token": token},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise StoreUnavailable(f"cannot reach {endpoint} for an object-store key: {exc}") from exc
    if response.status_code != 201:
        raise StoreUnavailable(
            f"the server refused an object-store key for this token "
            f"(HTTP {response.status_code}): {response.text[:300]}"
        )
    credential: dict[str, Any] = response.json()["credential"]
    return credential


def through_endpoint(access: Access) -> ObjectStore:
    ak, sk, url = access.access_key, access.secret_key, access.object_endpoint
    if not (ak and sk):
        if not (access.endpoint and access.token):
            raise CredentialsNotFound(
                "no object store to use: this machine has no data dir of `trainjobs serve` "
                f"(no {access.data_dir / CREDENTIALS_FILE}), and there is no access key "
                f"({ENV_ACCESS_KEY}/{ENV_SECRET_KEY}) nor server and token ({ENV_ENDPOINT}/"
                f"{ENV_TOKEN}) to reach its object endpoint"
            )
        issued = temporary_key(access.endpoint, access.token)
        ak, sk = issued["access"], issued["secret"]
        url = url or str(issued.get("obs_endpoint") or "")
    if not url:
        url = read_credentials_file(access.data_dir).get("obs_endpoint", "")
    if not url:
        raise CredentialsNotFound(
            f"the object endpoint's URL is unknown: set {ENV_OBJECT_ENDPOINT} (it is "
            "obs_endpoint in the server's credentials.json)"
        )
    return endpoint_store(url, ak, sk)


def endpoint_store(url: str, access_key: str, secret_key: str) -> ObjectStore:
    """The store behind an object endpoint: its buckets are the key's project's."""
    try:
        from s3fs import S3FileSystem
    except ImportError as exc:
        raise StoreUnavailable(
            "reaching the object endpoint needs s3fs: pip install 'trainjobs[s3]'"
        ) from exc
    fs = S3FileSystem(
        key=access_key,
        secret=secret_key,
        client_kwargs={"endpoint_url": url, "region_name": SIGNING_REGION},
        config_kwargs={"s3": {"addressing_style": "path"}, "signature_version": "s3v4"},
        # Others write to the same buckets: a cached listing would hide their objects.
        use_listings_cache=False,
    )
    return ObjectStore(fs, creates_buckets=True)
