"""The S3 endpoint as an ASGI application of its own, served on its own port.

Every request is verified (``auth.py``) before it names a bucket; the
access key's project is the namespace it works in. Every failure is an S3 XML
error, including the unexpected ones (``InternalError``, logged here).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from trainjobs.objectstore.store import PROJECT_ID, ObjectStore
from trainjobs.s3 import auth, buckets, errors, keys, wire
from trainjobs.s3.objects import BUCKET, Namespace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backend:
    store: ObjectStore  # the whole store: one namespace per project under it
    lookup: Callable[[str], auth.Key | None]  # access key -> its secret and project
    skew_s: float = auth.DEFAULT_SKEW_S


def _decode(raw: str, what: str) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.InvalidURI(f"the {what} is not valid UTF-8 once percent-decoded") from exc


def received_of(request: Request) -> auth.Received:
    scope = request.scope
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    raw_path = raw_path.split("?", 1)[0]
    query = []
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            query.append((_decode(name, "query"), _decode(value, "query")))
    headers = [
        (name.decode("latin-1").lower(), value.decode("latin-1"))
        for name, value in scope.get("headers", [])
    ]
    return auth.Received(request.method, raw_path, query, headers)


def split_path(raw_path: str) -> tuple[str, str]:
    """(bucket, key) of a path-style request; ("", "") for the service itself."""
    path = _decode(raw_path, "path")
    rest = path[1:] if path.startswith("/") else path
    bucket, _, key = rest.partition("/")
    return bucket, key


def _error(exc: errors.S3Error, request: Request, request_id: str) -> Response:
    headers = {"x-amz-request-id": request_id}
    if _unread_body(request):
        # A client that sent "Expect: 100-continue" holds its body back once it sees
        # this answer; the connection cannot carry another request after it.
        headers["connection"] = "close"
    if request.method == "HEAD":
        return Response(status_code=exc.status, headers=headers)
    return Response(
        wire.error_body(exc, request_id),
        status_code=exc.status,
        media_type=wire.XML_MEDIA_TYPE,
        headers=headers,
    )


def _unread_body(request: Request) -> bool:
    if request.scope.get(keys.BODY_READ):
        return False
    length = request.headers.get("content-length", "0")
    return length not in ("", "0") or "transfer-encoding" in request.headers


def _owner_elsewhere(store: ObjectStore, project_id: str, bucket: str) -> bool:
    """Whether another project has a bucket of this name (S3 answers AccessDenied then)."""
    if not BUCKET.match(bucket):
        return False
    try:
        names = [str(p).strip("/").rsplit("/", 1)[-1] for p in store.fs.ls("", detail=False)]
    except FileNotFoundError:
        return False
    return any(
        PROJECT_ID.match(name) and name != project_id and store.fs.isdir(f"{name}/{bucket}")
        for name in names
    )


def create_s3_app(backend: Callable[[], Backend | None]) -> ASGIApp:
    """``backend`` gives the store and keys once the service has started (None before)."""
    namespaces: dict[str, Namespace] = {}

    def namespace(store: ObjectStore, project_id: str) -> Namespace:
        found = namespaces.get(project_id)
        if found is None:
            found = namespaces[project_id] = Namespace(store.for_project(project_id))
        return found

    async def handle(request: Request) -> Response:
        request_id = secrets.token_hex(8).upper()
        try:
            response = await _handle(request)
        except errors.S3Error as exc:
            return _error(exc, request, request_id)
        except Exception:
            log.exception("object endpoint: %s %s failed", request.method, request.url.path)
            failure = errors.S3Error("we encountered an internal error; please try again")
            return _error(failure, request, request_id)
        response.headers["x-amz-request-id"] = request_id
        return response

    async def _handle(request: Request) -> Response:
        current = backend()
        if current is None:
            raise errors.ServiceUnavailable("the service is starting; retry in a moment")
        received = received_of(request)
        principal = await run_in_threadpool(
            auth.verify, received, current.lookup, datetime.now(UTC), current.skew_s
        )
        bucket, key = split_path(received.raw_path)
        ns = namespaces.get(principal.project_id)
        if ns is None:
            ns = await run_in_threadpool(namespace, current.store, principal.project_id)
        try:
            if not bucket:
                if request.method != "GET":
                    raise errors.MethodNotAllowed("only GET lists the buckets", "/")
                return await buckets.list_buckets(ns)
            if not key:
                body = b""
                if request.method == "POST":
                    body = await keys.small_body(request, principal)
                return await buckets.bucket_operation(
                    ns, request.method, bucket, request.query_params, body
                )
            return await keys.key_operation(request, ns, bucket, key, principal)
        except errors.NoSuchBucket as exc:
            elsewhere = await run_in_threadpool(
                _owner_elsewhere, current.store, principal.project_id, bucket
            )
            if elsewhere:
                raise errors.AccessDenied(
                    "this bucket belongs to another project than the access key's", bucket
                ) from exc
            raise

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # No router: every path is a bucket or a key (newlines included), and
        # every method gets S3's answer.
        if scope["type"] != "http":
            return
        response = await handle(Request(scope, receive))
        await response(scope, receive, send)

    return app


__all__ = ["Backend", "create_s3_app"]
