"""Object-level operations: Put/Get/Head/Delete/CopyObject and multipart uploads.

Bodies stream through: a PUT or a part is written a chunk at a time while its
SHA-256 is computed, and checked against the signed one at the end; a GET
reads a chunk at a time. Nothing is held whole in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from trainjobs.s3 import errors, wire
from trainjobs.s3.auth import UNSIGNED_PAYLOAD, Principal
from trainjobs.s3.buckets import content_type, xml
from trainjobs.s3.objects import (
    CHUNK_BYTES,
    MAX_PART_NUMBER,
    Namespace,
    check_key,
    etag_of,
    mtime_of,
)

MAX_PUT_BYTES = 5 * 1024**3  # S3's limit for one PUT or one part
MIN_PART_BYTES = 5 * 1024**2  # every part but the last
MAX_PARTS_LISTED = 1000
SMALL_READ_BYTES = 256 * 1024  # read at once, without a hop to a worker thread
BODY_READ = "trainjobs.body_read"  # set in the scope once the whole body was received


def _object_headers(info: dict[str, Any], key: str) -> dict[str, str]:
    return {
        "etag": etag_of(info),
        "last-modified": wire.http_date(mtime_of(info)),
        "accept-ranges": "bytes",
        "content-type": content_type(key),
    }


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise errors.InvalidArgument("Content-Length must be a whole number")
    return int(raw)


async def receive_body(request: Request, ns: Namespace, path: str, principal: Principal) -> int:
    """Stream the request body into ``path``; return its size, or raise (leaving nothing)."""
    declared = _declared_length(request)
    if declared is not None and declared > MAX_PUT_BYTES:
        raise errors.EntityTooLarge(
            f"your proposed upload exceeds the maximum allowed size ({MAX_PUT_BYTES} bytes): "
            "use a multipart upload"
        )
    digest = hashlib.sha256()
    size = 0
    handle = await ns.quick(ns.open_write, path)
    pending: list[bytes] = []
    pending_bytes = 0
    # One block is written (and hashed) in a worker thread while the next arrives.
    writing: asyncio.Future[None] | None = None
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            size += len(chunk)
            if size > MAX_PUT_BYTES:
                raise errors.EntityTooLarge(f"an upload holds at most {MAX_PUT_BYTES} bytes")
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= CHUNK_BYTES:
                block = b"".join(pending)
                pending, pending_bytes = [], 0
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(run_in_threadpool(_write, handle, digest, block))
        request.scope[BODY_READ] = True
        if writing is not None:
            await writing
            writing = None
        if pending:
            await run_in_threadpool(_write, handle, digest, b"".join(pending))
        await ns.quick(handle.close)
        if declared is not None and size != declared:
            raise errors.IncompleteBody("the body ended before its Content-Length")
        if principal.payload_sha256 != UNSIGNED_PAYLOAD and (
            digest.hexdigest() != principal.payload_sha256
        ):
            raise errors.BadDigest(
                "the provided x-amz-content-sha256 does not match what was computed"
            )
    except BaseException:
        if writing is not None:
            with contextlib.suppress(BaseException):
                await writing
        await ns.quick(handle.close)
        await ns.quick(ns.discard, path)
        raise
    return size


def _write(handle: Any, digest: Any, block: bytes) -> None:
    digest.update(block)
    handle.write(block)


async def put_object(
    request: Request, ns: Namespace, bucket: str, key: str, principal: Principal
) -> Response:
    source = request.headers.get("x-amz-copy-source")
    if source is not None:
        return await copy_object(ns, bucket, key, source)
    staged = await ns.quick(ns.new_staged)
    size = await receive_body(request, ns, staged, principal)
    if key.endswith("/"):
        await ns.quick(ns.discard, staged)
        if size:
            raise errors.InvalidArgument("a key ending in '/' is a folder and holds no data", key)
        await ns.quick(ns.make_folder, bucket, key)
        return Response(status_code=200, headers={"etag": '"d41d8cd98f00b204e9800998ecf8427e"'})
    info = await ns.quick(ns.place, staged, bucket, key)
    return Response(status_code=200, headers={"etag": etag_of(info)})


async def copy_object(ns: Namespace, bucket: str, key: str, source: str) -> Response:
    text = unquote(source.split("?", 1)[0]).lstrip("/")
    src_bucket, _, src_key = text.partition("/")
    if not src_bucket or not src_key:
        raise errors.InvalidArgument("x-amz-copy-source must read BUCKET/KEY")
    await ns.quick(ns.require_bucket, src_bucket)
    check_key(src_key)
    info = await run_in_threadpool(ns.copy, src_bucket, src_key, bucket, key)
    return xml(
        "CopyObjectResult",
        {"LastModified": wire.timestamp(mtime_of(info)), "ETag": etag_of(info)},
    )


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, length) of a single ``bytes=`` range; None to send the whole object."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep:
        return None
    try:
        if not first:
            suffix = int(last)
            if suffix <= 0:
                raise errors.InvalidRange("the requested range is not satisfiable")
            start = max(size - suffix, 0)
            return start, size - start
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise errors.InvalidRange("the requested range is not satisfiable")
    end = min(end, size - 1)
    return start, end - start + 1


async def get_object(request: Request, ns: Namespace, bucket: str, key: str) -> Response:
    info = await ns.quick(ns.head, bucket, key)
    size = int(info.get("size") or 0)
    headers = _object_headers(info, key)
    wanted = request.headers.get("range")
    span = parse_range(wanted, size) if wanted else None
    status = 200
    start, length = 0, size
    if span is not None:
        start, length = span
        status = 206
        headers["content-range"] = f"bytes {start}-{start + length - 1}/{size}"
    headers["content-length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    # Opened before the response starts, so a vanished object is still a NoSuchKey.
    chunks = ns.read_range(bucket, key, start, length)
    if length <= SMALL_READ_BYTES:
        try:
            whole = await ns.quick(next, chunks, b"")
        finally:
            chunks.close()
        return Response(whole, status_code=status, headers=headers)
    first = await run_in_threadpool(next, chunks, b"")

    async def body() -> AsyncIterator[bytes]:
        # The next chunk is read in a worker thread while this one is sent.
        ahead: asyncio.Future[bytes] | None = None
        try:
            sent, chunk = 0, first
            while chunk:
                sent += len(chunk)
                if sent < length:
                    ahead = asyncio.ensure_future(run_in_threadpool(next, chunks, b""))
                yield chunk
                chunk = await ahead if ahead is not None else b""
                ahead = None
        finally:
            if ahead is not None:
                with contextlib.suppress(BaseException):
                    await ahead
            chunks.close()  # closes the file, also when the client went away

    return StreamingResponse(body(), status_code=status, headers=headers)


# -- multipart uploads ------------------------------------------------------------


def _part_number(params: QueryParams) -> int:
    raw = params.get("partNumber", "")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PART_NUMBER:
        raise errors.InvalidArgument(f"partNumber must be between 1 and {MAX_PART_NUMBER}")
    return int(raw)


async def create_upload(ns: Namespace, bucket: str, key: str) -> Response:
    upload_id = await ns.quick(ns.create_upload, bucket, key)
    return xml(
        "InitiateMultipartUploadResult", {"Bucket": bucket, "Key": key, "UploadId": upload_id}
    )


async def upload_part(
    request: Request, ns: Namespace, bucket: str, key: str, principal: Principal
) -> Response:
    params = request.query_params
    number = _part_number(params)
    folder = await ns.quick(ns.upload_folder, bucket, key, params["uploadId"])
    staged = f"{folder}/incoming-{number:05d}"
    await receive_body(request, ns, staged, principal)
    part = ns.part_path(folder, number)
    await ns.quick(ns.fs.mv, staged, part)
    info = await ns.quick(ns.fs.info, part)
    return Response(status_code=200, headers={"etag": etag_of(info)})


async def complete_upload(
    ns: Namespace, bucket: str, key: str, upload_id: str, payload: bytes
) -> Response:
    folder = await ns.quick(ns.upload_folder, bucket, key, upload_id)
    request = wire.parse(payload, "CompleteMultipartUpload")
    listed = wire.as_list(request.get("Part"))
    if not listed:
        raise errors.MalformedXML("<CompleteMultipartUpload> names no <Part>")
    stored = dict(await ns.quick(ns.parts, folder))
    chosen: list[str] = []
    previous = 0
    for index, part in enumerate(listed):
        try:
            number = int(part["PartNumber"])
            etag = str(part.get("ETag") or "").strip()
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.MalformedXML("each <Part> needs a <PartNumber> and an <ETag>") from exc
        if number <= previous:
            raise errors.InvalidPartOrder("the list of parts was not in ascending order")
        previous = number
        info = stored.get(number)
        if info is None or etag.strip('"') != etag_of(info).strip('"'):
            raise errors.InvalidPart(f"part {number} was not uploaded or its ETag differs")
        if index < len(listed) - 1 and int(info.get("size") or 0) < MIN_PART_BYTES:
            raise errors.EntityTooSmall(f"part {number} is smaller than 5 MiB and not the last")
        chosen.append(str(info["name"]))
    staged = f"{folder}/whole"
    await run_in_threadpool(_concatenate, ns, chosen, staged)
    info = await ns.quick(ns.place, staged, bucket, key)
    await run_in_threadpool(ns.abort, folder)
    return xml(
        "CompleteMultipartUploadResult",
        {"Location": f"/{bucket}/{key}", "Bucket": bucket, "Key": key, "ETag": etag_of(info)},
    )


def _concatenate(ns: Namespace, parts: list[str], target: str) -> None:
    with ns.fs.open(target, "wb") as out:
        for part in parts:
            with ns.fs.open(part, "rb") as source:
                while chunk := source.read(8 * CHUNK_BYTES):
                    out.write(chunk)


async def list_parts(ns: Namespace, bucket: str, key: str, upload_id: str) -> Response:
    folder = await ns.quick(ns.upload_folder, bucket, key, upload_id)
    stored = await ns.quick(ns.parts, folder)
    parts = [
        {
            "PartNumber": str(number),
            "LastModified": wire.timestamp(mtime_of(info)),
            "ETag": etag_of(info),
            "Size": str(int(info.get("size") or 0)),
        }
        for number, info in stored[:MAX_PARTS_LISTED]
    ]
    return xml(
        "ListPartsResult",
        {
            "Bucket": bucket,
            "Key": key,
            "UploadId": upload_id,
            "MaxParts": str(MAX_PARTS_LISTED),
            "IsTruncated": "true" if len(stored) > MAX_PARTS_LISTED else "false",
            "Part": parts,
        },
    )


async def abort_upload(ns: Namespace, bucket: str, key: str, upload_id: str) -> Response:
    folder = await ns.quick(ns.upload_folder, bucket, key, upload_id)
    await run_in_threadpool(ns.abort, folder)
    return Response(status_code=204)


async def key_operation(
    request: Request, ns: Namespace, bucket: str, key: str, principal: Principal
) -> Response:
    method, params = request.method, request.query_params
    check_key(key)
    await ns.quick(ns.require_bucket, bucket)
    upload_id = params.get("uploadId")
    if method == "PUT":
        if upload_id is not None:
            return await upload_part(request, ns, bucket, key, principal)
        return await put_object(request, ns, bucket, key, principal)
    if method in ("GET", "HEAD"):
        if upload_id is not None and method == "GET":
            return await list_parts(ns, bucket, key, upload_id)
        return await get_object(request, ns, bucket, key)
    if method == "DELETE":
        if upload_id is not None:
            return await abort_upload(ns, bucket, key, upload_id)
        await ns.quick(ns.delete, bucket, key)
        return Response(status_code=204)
    if method == "POST":
        if "uploads" in params:
            return await create_upload(ns, bucket, key)
        if upload_id is not None:
            body = await small_body(request, principal)
            return await complete_upload(ns, bucket, key, upload_id, body)
    raise errors.MethodNotAllowed("the method is not allowed against this resource", key)


async def small_body(request: Request, principal: Principal) -> bytes:
    """An XML request body, read whole (it is bounded) and checked against its signed hash."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > wire.MAX_XML_BODY_BYTES:
            raise errors.MalformedXML("the XML body is too large")
    request.scope[BODY_READ] = True
    if principal.payload_sha256 != UNSIGNED_PAYLOAD and (
        hashlib.sha256(body).hexdigest() != principal.payload_sha256
    ):
        raise errors.BadDigest("the provided x-amz-content-sha256 does not match the body")
    return bytes(body)
