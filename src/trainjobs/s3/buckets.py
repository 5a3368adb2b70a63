"""Bucket-level operations: ListBuckets, Create/Delete/HeadBucket, listings, DeleteObjects."""

from __future__ import annotations

import mimetypes
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response

from trainjobs.s3 import errors, listing, wire
from trainjobs.s3.objects import Namespace, etag_of, mtime_of

MAX_KEYS = 1000
MAX_DELETE_KEYS = 1000
OWNER = {"ID": "trainjobs", "DisplayName": "trainjobs"}


def xml(root: str, body: dict[str, Any], status: int = 200) -> Response:
    return Response(wire.render(root, body), status_code=status, media_type=wire.XML_MEDIA_TYPE)


def content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "binary/octet-stream"


async def list_buckets(ns: Namespace) -> Response:
    found = await ns.quick(ns.buckets)
    buckets = [{"Name": name, "CreationDate": wire.timestamp(t)} for name, t in found]
    return xml("ListAllMyBucketsResult", {"Owner": OWNER, "Buckets": {"Bucket": buckets}})


def _max_keys(params: QueryParams) -> int:
    raw = params.get("max-keys", str(MAX_KEYS))
    try:
        value = int(raw)
    except ValueError as exc:
        raise errors.InvalidArgument("max-keys must be a whole number") from exc
    if value < 0:
        raise errors.InvalidArgument("max-keys must not be negative")
    return min(value, MAX_KEYS)


def _encoding(params: QueryParams) -> str:
    encoding = params.get("encoding-type", "")
    if encoding not in ("", "url"):
        raise errors.InvalidArgument("encoding-type may only be url")
    return encoding


def _contents(page: listing.Page, encoding: str) -> list[dict[str, str]]:
    return [
        {
            "Key": wire.encode_key(item.key, encoding),
            "LastModified": wire.timestamp(mtime_of(item.info)),
            "ETag": etag_of(item.info),
            "Size": str(int(item.info.get("size") or 0)),
            "StorageClass": "STANDARD",
        }
        for item in page.contents
    ]


def _prefixes(page: listing.Page, encoding: str) -> list[dict[str, str]]:
    return [{"Prefix": wire.encode_key(p, encoding)} for p in page.prefixes]


async def list_objects(ns: Namespace, bucket: str, params: QueryParams) -> Response:
    """ListObjectsV2 (``list-type=2``) and the original ListObjects (``marker``)."""
    await ns.quick(ns.require_bucket, bucket)
    prefix = params.get("prefix", "")
    delimiter = params.get("delimiter", "")
    encoding = _encoding(params)
    max_keys = _max_keys(params)
    v2 = params.get("list-type") == "2"
    if v2:
        token = params.get("continuation-token")
        start = params.get("start-after", "")
        after = listing.decode_token(token) if token else start
    else:
        after = params.get("marker", "")
    # A page may end on a common prefix: the next one starts past all its keys.
    resumed = not v2 or bool(params.get("continuation-token"))
    resume = listing.resume_point(after, delimiter) if resumed else after
    page = await run_in_threadpool(listing.page, ns.fs, bucket, prefix, resume, delimiter, max_keys)
    body: dict[str, Any] = {
        "Name": bucket,
        "Prefix": wire.encode_key(prefix, encoding),
        "MaxKeys": str(max_keys),
        "IsTruncated": "true" if page.truncated else "false",
    }
    if delimiter:
        body["Delimiter"] = wire.encode_key(delimiter, encoding)
    if encoding:
        body["EncodingType"] = encoding
    if v2:
        body["KeyCount"] = str(len(page.contents) + len(page.prefixes))
        if params.get("continuation-token"):
            body["ContinuationToken"] = params["continuation-token"]
        if params.get("start-after"):
            body["StartAfter"] = wire.encode_key(params["start-after"], encoding)
        if page.truncated:
            body["NextContinuationToken"] = listing.encode_token(page.next_marker)
    else:
        body["Marker"] = wire.encode_key(after, encoding)
        if page.truncated and delimiter:
            body["NextMarker"] = wire.encode_key(page.next_marker, encoding)
    body["Contents"] = _contents(page, encoding)
    body["CommonPrefixes"] = _prefixes(page, encoding)
    return xml("ListBucketResult", body)


async def delete_objects(ns: Namespace, bucket: str, payload: bytes) -> Response:
    await ns.quick(ns.require_bucket, bucket)
    request = wire.parse(payload, "Delete")
    objects = wire.as_list(request.get("Object"))
    if not objects:
        raise errors.MalformedXML("<Delete> names no <Object>")
    if len(objects) > MAX_DELETE_KEYS:
        raise errors.MalformedXML(f"at most {MAX_DELETE_KEYS} keys may be deleted at once")
    quiet = str(request.get("Quiet", "")).lower() == "true"
    deleted: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for obj in objects:
        key = obj.get("Key") if isinstance(obj, dict) else None
        if not isinstance(key, str) or not key:
            raise errors.MalformedXML("each <Object> needs a <Key>")
        try:
            await ns.quick(ns.delete, bucket, key)
        except errors.S3Error as exc:
            failed.append({"Key": wire.text(key), "Code": exc.code, "Message": exc.message})
            continue
        if not quiet:
            deleted.append({"Key": wire.text(key)})
    return xml("DeleteResult", {"Deleted": deleted, "Error": failed})


async def bucket_operation(
    ns: Namespace, method: str, bucket: str, params: QueryParams, body: bytes
) -> Response:
    if method == "GET":
        if "location" in params:
            await ns.quick(ns.require_bucket, bucket)
            return xml("LocationConstraint", {})
        if "uploads" in params or "versioning" in params or "acl" in params:
            await ns.quick(ns.require_bucket, bucket)
            raise errors.NotImplementedHere("this bucket sub-resource is not offered here", bucket)
        return await list_objects(ns, bucket, params)
    if method == "HEAD":
        await ns.quick(ns.require_bucket, bucket)
        return Response(status_code=200)
    if method == "PUT":
        if params:
            raise errors.NotImplementedHere("bucket settings are not offered here", bucket)
        await ns.quick(ns.create_bucket, bucket)
        return Response(status_code=200, headers={"location": f"/{bucket}"})
    if method == "DELETE":
        await ns.quick(ns.delete_bucket, bucket)
        return Response(status_code=204)
    if method == "POST" and "delete" in params:
        return await delete_objects(ns, bucket, body)
    raise errors.MethodNotAllowed("the method is not allowed against this resource", bucket)
