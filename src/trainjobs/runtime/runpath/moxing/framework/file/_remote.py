"""Objects behind ``obs://`` and ``s3://`` paths, through an S3-compatible endpoint.

One boto3 client serves every thread: it is thread-safe and keeps a pool of
keep-alive connections, sized for ``copy_parallel``'s threads. A folder is a
key prefix: it exists when an object lies under it, or when its marker object
(``folder/``, what ``make_dirs`` writes) does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SCHEMES = ("obs://", "s3://")
POOL_CONNECTIONS = 64
# Above this a file goes through the managed transfer (multipart, threaded).
SINGLE_REQUEST_BYTES = 16 * 1024 * 1024


def is_remote(path: object) -> bool:
    return isinstance(path, str) and path.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class Url:
    scheme: str  # "obs://" or "s3://", as the caller wrote it
    bucket: str
    key: str  # no leading "/"; "" for the bucket's root

    @property
    def prefix(self) -> str:
        """The key prefix of the folder this path names."""
        return self.key.rstrip("/") + "/" if self.key.strip("/") else ""

    def child(self, relative: str) -> Url:
        return Url(self.scheme, self.bucket, self.prefix + relative)

    def __str__(self) -> str:
        return f"{self.scheme}{self.bucket}/{self.key}"


def parse(path: str) -> Url:
    scheme = path[: path.index("://") + 3]
    rest = path[len(scheme) :]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"{path!r} names no bucket: write {scheme}BUCKET/KEY")
    # Keys are written as folders are: "a//b" and "a/./b" mean what they do locally.
    parts = [p for p in key.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{path!r}: '..' has no meaning in an object path")
    normalized = "/".join(parts) + ("/" if key.endswith("/") and parts else "")
    return Url(scheme.lower(), bucket, normalized)


class _Auth:
    """set_auth's values, over the environment's."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.client: Any = None

    def setting(self, key: str, *env_names: str) -> str:
        if self.values.get(key) is not None:
            return str(self.values[key])
        for name in env_names:
            if os.environ.get(name):
                return os.environ[name]
        return ""


AUTH = _Auth()


def set_auth(**values: Any) -> None:
    with AUTH.lock:
        AUTH.values.update({k: v for k, v in values.items() if v is not None})
        AUTH.client = None


def _endpoint_url() -> str:
    endpoint = AUTH.setting("server", "S3_ENDPOINT", "MOX_S3_ENDPOINT")
    if not endpoint:
        raise OSError(
            "obs:// and s3:// paths need an object-store endpoint: S3_ENDPOINT is not set "
            "(trainjobs sets it in runs when the server serves its object store over S3; "
            "elsewhere set S3_ENDPOINT and ACCESS_KEY_ID / SECRET_ACCESS_KEY, "
            "or call mox.file.set_auth(ak=..., sk=..., server=...))"
        )
    if "://" not in endpoint:
        secure = AUTH.values.get("is_secure")
        if secure is None:
            secure = os.environ.get("S3_USE_HTTPS", "1") not in ("0", "false", "False")
        endpoint = ("https://" if secure else "http://") + endpoint
    port = AUTH.values.get("port")
    if port:
        endpoint = f"{endpoint.rstrip('/')}:{port}"
    return endpoint


def client() -> Any:
    with AUTH.lock:
        if AUTH.client is None:
            import boto3
            from botocore.config import Config

            verify: Any = AUTH.values.get("ssl_verify")
            if verify is None:
                verify = os.environ.get("S3_VERIFY_SSL", "1") not in ("0", "false", "False")
            ak = AUTH.setting("ak", "ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
            sk = AUTH.setting("sk", "SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
            token = AUTH.setting("security_token", "SECURITY_TOKEN", "AWS_SESSION_TOKEN")
            session = boto3.session.Session()
            AUTH.client = session.client(
                "s3",
                endpoint_url=_endpoint_url(),
                aws_access_key_id=ak or None,
                aws_secret_access_key=sk or None,
                aws_session_token=token or None,
                region_name=AUTH.setting("region", "AWS_DEFAULT_REGION", "AWS_REGION")
                or "us-east-1",
                verify=verify,
                config=Config(
                    s3={"addressing_style": "path"},
                    max_pool_connections=POOL_CONNECTIONS,
                    retries={"max_attempts": 5, "mode": "standard"},
                    signature_version="s3v4",
                ),
            )
        return AUTH.client


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def translate(exc: Exception, url: Url) -> OSError:
    """An S3 error as the OSError a local file operation would raise."""
    code = _code(exc)
    if code in ("NoSuchKey", "NoSuchBucket", "404", "NotFound"):
        return FileNotFoundError(2, f"No such file or directory: {url}")
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return PermissionError(13, f"Permission denied ({code}): {url}")
    return OSError(f"{url}: {exc}")


def head(url: Url) -> dict[str, Any] | None:
    """The object's metadata, or None when there is no object at exactly this key."""
    if not url.key or url.key.endswith("/"):
        return None
    try:
        return dict(client().head_object(Bucket=url.bucket, Key=url.key))
    except Exception as exc:
        if _code(exc) in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
            return None
        raise translate(exc, url) from exc


def bucket_exists(url: Url) -> bool:
    try:
        client().head_bucket(Bucket=url.bucket)
        return True
    except Exception as exc:
        if _code(exc) in ("NoSuchBucket", "404", "NotFound"):
            return False
        raise translate(exc, url) from exc


def is_file(url: Url) -> bool:
    return head(url) is not None


def is_dir(url: Url) -> bool:
    if not url.prefix:
        return bucket_exists(url)
    try:
        found = client().list_objects_v2(Bucket=url.bucket, Prefix=url.prefix, MaxKeys=1)
    except Exception as exc:
        if _code(exc) == "NoSuchBucket":
            return False
        raise translate(exc, url) from exc
    return int(found.get("KeyCount", 0)) > 0


def objects(url: Url, delimiter: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(key relative to the folder, listing entry) of everything under a folder;
    with a delimiter, sub-folders come as ("name/", {})."""
    prefix = url.prefix
    kwargs: dict[str, Any] = {"Bucket": url.bucket, "Prefix": prefix}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    try:
        for page in client().get_paginator("list_objects_v2").paginate(**kwargs):
            for entry in page.get("Contents", []):
                yield entry["Key"][len(prefix) :], entry
            for common in page.get("CommonPrefixes", []):
                yield common["Prefix"][len(prefix) :], {}
    except OSError:
        raise
    except Exception as exc:
        raise translate(exc, url) from exc


def tree(url: Url) -> tuple[dict[str, int], set[str]]:
    """Files (relative path -> size) and folders (relative paths) under a folder."""
    files: dict[str, int] = {}
    folders: set[str] = set()
    for rel, entry in objects(url):
        if not rel:
            continue  # the folder's own marker
        parts = rel.rstrip("/").split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if rel.endswith("/"):
            folders.add(rel.rstrip("/"))
        else:
            files[rel] = int(entry.get("Size", 0))
    return files, folders


def get_bytes(url: Url) -> bytes:
    try:
        body = client().get_object(Bucket=url.bucket, Key=url.key)["Body"]
        with body:
            return bytes(body.read())
    except Exception as exc:
        raise translate(exc, url) from exc


def put_bytes(url: Url, data: bytes) -> None:
    try:
        client().put_object(Bucket=url.bucket, Key=url.key, Body=data)
    except Exception as exc:
        raise translate(exc, url) from exc


def download(url: Url, local: str, size: int) -> None:
    parent = os.path.dirname(local)
    if parent:
        os.makedirs(parent, exist_ok=True)
    if size <= SINGLE_REQUEST_BYTES:
        data = get_bytes(url)
        with open(local, "wb") as f:
            f.write(data)
        return
    try:
        client().download_file(url.bucket, url.key, local)
    except Exception as exc:
        raise translate(exc, url) from exc


def upload(local: str, url: Url) -> None:
    if os.path.getsize(local) <= SINGLE_REQUEST_BYTES:
        with open(local, "rb") as f:
            put_bytes(url, f.read())
        return
    try:
        client().upload_file(local, url.bucket, url.key)
    except Exception as exc:
        raise translate(exc, url) from exc


def copy_object(src: Url, dst: Url) -> None:
    try:
        client().copy({"Bucket": src.bucket, "Key": src.key}, dst.bucket, dst.key)
    except Exception as exc:
        raise translate(exc, src) from exc


def delete(url: Url, keys: list[str]) -> None:
    """Delete keys of url's bucket, a thousand a request (S3's limit)."""
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        try:
            answer = client().delete_objects(
                Bucket=url.bucket, Delete={"Objects": batch, "Quiet": True}
            )
        except Exception as exc:
            raise translate(exc, url) from exc
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise OSError(f"{url}: could not delete {first.get('Key')}: {first.get('Message')}")
