"""One project's namespace of the object store, as S3 sees it: buckets, keys,
uploads staged aside and moved into place whole.

A body is written to ``.uploads/`` inside the namespace (never a bucket name:
those start with a letter or digit) and moved to its key once complete, so a
reader never sees half an object and a failed upload leaves nothing behind.
Multipart parts wait there too until the upload completes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Generator
from typing import IO, Any, TypeVar

import fsspec
from starlette.concurrency import run_in_threadpool

from trainjobs.objectstore.store import ObjectStore
from trainjobs.s3 import errors
from trainjobs.s3.listing import HIDDEN, MARKER, folder_info

STAGING = ".uploads"
CHUNK_BYTES = 4 * 1024 * 1024
T = TypeVar("T")
MAX_KEY_BYTES = 1024
MAX_PART_NUMBER = 10_000
# S3's rules for a new bucket; existing ones (made by `trainjobs obs`) may be looser.
NEW_BUCKET = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_BAD_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def check_key(key: str) -> str:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise errors.KeyTooLong(f"object keys have at most {MAX_KEY_BYTES} bytes", key)
    parts = key.rstrip("/").split("/")
    if (
        not key
        or key.startswith("/")
        or "//" in key
        or any(p in (".", "..") for p in parts)
        or _BAD_KEY_CHARS.search(key)
        or parts[-1] == MARKER
        or any("\ud800" <= ch <= "\udfff" for ch in key)
    ):
        raise errors.InvalidArgument(
            "this object key cannot be stored here: keys may not start with '/', hold an empty, "
            f"'.' or '..' segment, a backslash or a control character, or end in {MARKER!r}",
            key,
        )
    return key


def check_bucket(name: str, new: bool = False) -> str:
    if not (NEW_BUCKET if new else BUCKET).match(name) or ".." in name:
        raise errors.InvalidBucketName(
            "bucket names are 3 to 63 lower-case letters, digits, '.' and '-', starting and "
            "ending with a letter or digit",
            name,
        )
    return name


def etag_of(info: dict[str, Any]) -> str:
    given = info.get("ETag") or info.get("etag")
    if given:
        return str(given) if str(given).startswith('"') else f'"{given}"'
    # No content hash is kept for a folder on disk: size and modification time
    # change whenever the object does, which is what clients compare.
    stamp = f"{info.get('size')}-{info.get('mtime') or info.get('created')}"
    return f'"{hashlib.md5(stamp.encode(), usedforsecurity=False).hexdigest()}"'


def mtime_of(info: dict[str, Any]) -> float:
    value = info.get("mtime") or info.get("LastModified") or info.get("created") or 0
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


class Namespace:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.fs: fsspec.AbstractFileSystem = store.fs
        self.local = store.is_local

    async def quick(self, call: Callable[..., T], *args: Any) -> T:
        """A call that only looks up, opens or renames: at once on a folder on disk (a
        stat is quicker than a hop to a worker thread), in a worker thread elsewhere
        (it is a request to the S3 back end)."""
        if self.local:
            return call(*args)
        return await run_in_threadpool(call, *args)

    # -- buckets ----------------------------------------------------------------

    def buckets(self) -> list[tuple[str, float]]:
        out = []
        for entry in self.store.buckets():
            name = entry.path.strip("/")
            if BUCKET.match(name):
                out.append((name, mtime_of(self._info(name) or {})))
        return out

    def _info(self, path: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self.fs.info(path)
            return info
        except (FileNotFoundError, NotADirectoryError):
            return None

    def bucket_exists(self, bucket: str) -> bool:
        return bool(self.fs.isdir(bucket))

    def require_bucket(self, bucket: str) -> None:
        check_bucket(bucket)
        if not self.bucket_exists(bucket):
            raise errors.NoSuchBucket("the specified bucket does not exist", bucket)

    def create_bucket(self, bucket: str) -> None:
        check_bucket(bucket, new=True)
        if self.bucket_exists(bucket):
            raise errors.BucketAlreadyOwnedByYou("you already own this bucket", bucket)
        if self.local:
            self.fs.makedirs(bucket, exist_ok=True)
        else:
            # Elsewhere a folder exists only while a key lies under it.
            self.fs.pipe_file(f"{bucket}/{MARKER}", b"")

    def delete_bucket(self, bucket: str) -> None:
        self.require_bucket(bucket)
        names = {str(p).rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(bucket, detail=False)}
        if names - HIDDEN:
            raise errors.BucketNotEmpty("the bucket you tried to delete is not empty", bucket)
        self.fs.rm(bucket, recursive=True)

    # -- objects ----------------------------------------------------------------

    @staticmethod
    def _path(bucket: str, key: str) -> str:
        """Where a key's bytes lie: a folder key's in its marker file."""
        return f"{bucket}/{key}{MARKER}" if key.endswith("/") else f"{bucket}/{key}"

    def head(self, bucket: str, key: str) -> dict[str, Any]:
        self.require_bucket(bucket)
        info = self._info(self._path(bucket, check_key(key)))
        # A folder that only holds keys is no object (S3 answers 404 for it), and a
        # link in the store (none is made through it) is never followed out of it.
        if info is None or info.get("type") == "directory" or info.get("islink"):
            raise errors.NoSuchKey("the specified key does not exist", f"{bucket}/{key}")
        return folder_info(info) if key.endswith("/") else info

    def open_read(self, bucket: str, key: str) -> IO[bytes]:
        try:
            handle: IO[bytes] = self.fs.open(self._path(bucket, key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise errors.NoSuchKey("the specified key does not exist", f"{bucket}/{key}") from exc
        return handle

    def read_range(
        self, bucket: str, key: str, start: int, length: int
    ) -> Generator[bytes, None, None]:
        """The bytes ``start`` to ``start + length``, a chunk at a time."""
        with self.open_read(bucket, key) as handle:
            handle.seek(start)
            left = length
            while left > 0:
                chunk = handle.read(min(CHUNK_BYTES, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object; a missing one is no error (as in S3)."""
        check_key(key)
        path = self._path(bucket, key)
        info = self._info(path)
        if info is None or info.get("type") == "directory":
            return  # a folder that only holds keys is no object to delete
        self.fs.rm_file(path)
        self._prune(bucket, key)

    def _prune(self, bucket: str, key: str) -> None:
        """Remove the folders a deleted key leaves empty (a folder on disk only)."""
        if not self.local:
            return
        parts = key.split("/")[:-1]
        while parts:
            folder = f"{bucket}/{'/'.join(parts)}"
            try:
                if self.fs.ls(folder):
                    return
                self.fs.rmdir(folder)
            except OSError:
                return
            parts.pop()

    # -- writing ------------------------------------------------------------------

    def staging_path(self, name: str) -> str:
        if self.local:
            self.fs.makedirs(STAGING, exist_ok=True)
        return f"{STAGING}/{name}"

    def new_staged(self) -> str:
        return self.staging_path(f"put-{secrets.token_hex(16)}")

    def open_write(self, path: str) -> IO[bytes]:
        handle: IO[bytes] = self.fs.open(path, "wb")
        return handle

    def place(self, staged: str, bucket: str, key: str) -> dict[str, Any]:
        """Move a complete staged body to its key; return the object's info."""
        target = f"{bucket}/{key}"
        parent = target.rsplit("/", 1)[0]
        try:
            if self.local:
                self.fs.makedirs(parent, exist_ok=True)
                if self.fs.isdir(target):
                    raise IsADirectoryError(target)
            self.fs.mv(staged, target)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            self.discard(staged)
            raise errors.InvalidArgument(
                "this key cannot be stored here: a key before one of its '/' is an object, or "
                "keys lie under it",
                f"{bucket}/{key}",
            ) from exc
        return self.head(bucket, key)

    def make_folder(self, bucket: str, key: str) -> None:
        """A key ending in '/' with no body: a folder (as OBS consoles make them)."""
        try:
            if self.local:
                self.fs.makedirs(f"{bucket}/{key}".rstrip("/"), exist_ok=True)
            self.fs.pipe_file(self._path(bucket, key), b"")
        except (FileExistsError, NotADirectoryError) as exc:
            raise errors.InvalidArgument(
                "this folder cannot be made here: a key before one of its '/' is an object",
                f"{bucket}/{key}",
            ) from exc

    def discard(self, staged: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(staged, recursive=True)

    def copy(self, src_bucket: str, src_key: str, bucket: str, key: str) -> dict[str, Any]:
        source = self.head(src_bucket, src_key)
        if key.endswith("/"):
            if source.get("size"):
                raise errors.InvalidArgument(
                    "a key ending in '/' is a folder and holds no data", key
                )
            self.make_folder(bucket, key)
            return self.head(bucket, key)
        staged = self.new_staged()
        self.fs.cp_file(self._path(src_bucket, src_key), staged)
        return self.place(staged, bucket, key)

    # -- multipart uploads --------------------------------------------------------

    def create_upload(self, bucket: str, key: str) -> str:
        self.require_bucket(bucket)
        check_key(key)
        upload_id = secrets.token_hex(16)
        folder = self.staging_path(f"mp-{upload_id}")
        if self.local:
            self.fs.makedirs(folder, exist_ok=True)
        self.fs.pipe_file(f"{folder}/target.json", json.dumps([bucket, key]).encode())
        return upload_id

    def upload_folder(self, bucket: str, key: str, upload_id: str) -> str:
        if UPLOAD_ID.match(upload_id):
            folder = f"{STAGING}/mp-{upload_id}"
            try:
                target = json.loads(self.fs.cat_file(f"{folder}/target.json"))
            except (FileNotFoundError, ValueError):
                target = None
            if target == [bucket, key]:
                return folder
        raise errors.NoSuchUpload(
            "the specified multipart upload does not exist: it may have been completed or aborted",
            f"{bucket}/{key}",
        )

    def part_path(self, folder: str, number: int) -> str:
        return f"{folder}/part-{number:05d}"

    def parts(self, folder: str) -> list[tuple[int, dict[str, Any]]]:
        found = []
        for info in self.fs.ls(folder, detail=True):
            name = str(info["name"]).rsplit("/", 1)[-1]
            if name.startswith("part-") and name[5:].isdigit():
                found.append((int(name[5:]), info))
        return sorted(found, key=lambda p: p[0])

    def abort(self, folder: str) -> None:
        self.fs.rm(folder, recursive=True)
