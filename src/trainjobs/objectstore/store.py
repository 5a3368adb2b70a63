"""The object store: copy folders and files between OBS paths and local disk.

The filesystem is any fsspec implementation whose paths read ``bucket/key``:
a folder on disk (the embedded default) or an S3-compatible store (OBS, MinIO,
Ceph), rooted at one real bucket and an optional prefix. The service and its
clients see one project's namespace at a time (``for_project``).

Only a local disk has folders of its own; elsewhere a folder is the prefix of
the keys under it. What differs is handled here, so callers never ask.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
from fsspec.callbacks import Callback
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from trainjobs import nofollow
from trainjobs.objectstore.paths import ObsPath

PROJECT_ID = re.compile(r"^[0-9a-f]{32}$")
# What sync() remembers of an entry it does not upload (a link, a FIFO).
LEFT_OUT = (-1, -1)
# An empty file that keeps an empty bucket or folder in a store whose folders exist
# only while a key lies under them; the object endpoint serves it as the folder's
# own key. It is no file of the user's: never listed, downloaded or pulled.
FOLDER_MARKER = ".trainjobs-bucket"
COPY_CHUNK = 1 << 20
S3_SCHEMES = ("s3", "s3a", "obs")  # OBS speaks the S3 protocol
# Huawei's tools name the same credentials differently (s3fs argument -> variable).
OBS_CREDENTIAL_ENV = {
    "key": "OBS_ACCESS_KEY_ID",
    "secret": "OBS_SECRET_ACCESS_KEY",
    "token": "OBS_SECURITY_TOKEN",
}


class ObjectNotFound(FileNotFoundError):
    pass


class StoreUnavailable(RuntimeError):
    """The configured store cannot be used: a missing client library, bucket or permission."""


@dataclass(frozen=True)
class Entry:
    path: str  # as an OBS path, "/bucket/key"
    size: int
    is_dir: bool


class ObjectStore:
    def __init__(self, fs: fsspec.AbstractFileSystem, creates_buckets: bool = False) -> None:
        """``creates_buckets``: the top folders are real S3 buckets (an object endpoint),
        made on first upload as a folder on disk would be."""
        self.fs = fs
        self.creates_buckets = creates_buckets
        self._known_buckets: set[str] = set()

    @classmethod
    def from_url(cls, url: str, endpoint: str = "", **options: Any) -> ObjectStore:
        """A local folder, ``s3://BUCKET[/PREFIX]`` (``endpoint``: the S3 service's
        URL; credentials from the environment) or another fsspec URL."""
        protocol, sep, rest = url.partition("://")
        if not sep or protocol == "file":
            root = Path(rest if sep else url)
            root.mkdir(parents=True, exist_ok=True)
            return cls(DirFileSystem(path=str(root.resolve()), fs=LocalFileSystem()))
        prefix = rest.strip("/")
        if protocol.lower() in S3_SCHEMES:
            if not prefix:
                raise StoreUnavailable(
                    f"{url!r} names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX"
                )
            base = _s3_filesystem(endpoint, options)
        else:
            base = fsspec.filesystem(protocol, **options)
        return cls(DirFileSystem(path=prefix, fs=base))

    @property
    def is_local(self) -> bool:
        """Whether the store is a folder on this machine's disk."""
        return isinstance(_innermost(self.fs)[0], LocalFileSystem)

    def check(self) -> None:
        """Raise ``StoreUnavailable`` if the store's bucket cannot be reached, so a
        misconfigured server refuses to start instead of failing its first version."""
        base, root = _innermost(self.fs)
        if "s3" not in _protocols(base):
            return
        bucket = root.split("/", 1)[0]
        try:
            base.info(bucket)
        except FileNotFoundError as exc:
            raise StoreUnavailable(f"bucket {bucket!r} does not exist at the endpoint") from exc
        except Exception as exc:
            raise StoreUnavailable(f"bucket {bucket!r} cannot be reached: {exc}") from exc

    def for_project(self, project_id: str) -> ObjectStore:
        """The project's own namespace: its buckets live in a folder named after it,
        so no path of one project can name another's objects."""
        if not PROJECT_ID.match(project_id):
            raise ValueError(f"{project_id!r} is not a project id")
        self._makedirs(project_id)
        return ObjectStore(DirFileSystem(path=project_id, fs=self.fs))

    def _makedirs(self, fs_path: str) -> None:
        # Elsewhere a folder exists once a key lies under it; s3fs would spend a
        # request per call to learn that (and create a missing real bucket).
        if self.is_local:
            self.fs.makedirs(fs_path, exist_ok=True)

    def exists(self, path: ObsPath) -> bool:
        return bool(self.fs.exists(path.fs_path))

    def is_dir(self, path: ObsPath) -> bool:
        return bool(self.fs.isdir(path.fs_path))

    def is_file(self, path: ObsPath) -> bool:
        return bool(self.fs.isfile(path.fs_path))

    def _files_under(self, path: ObsPath, markers: bool = False) -> list[tuple[str, str]]:
        """(fs path, path relative to ``path``) of every file under a folder; folder
        markers only with ``markers``."""
        base = path.fs_path.rstrip("/")
        found = self.fs.find(base, detail=False)
        return [
            (f, f[len(base) :].lstrip("/"))
            for f in found
            if f != base and (markers or not is_marker(f))
        ]

    def size(self, path: ObsPath) -> int:
        """The bytes of a file, or of every file under a folder."""
        if self.is_file(path):
            return int(self.fs.size(path.fs_path) or 0)
        found = self.fs.find(path.fs_path.rstrip("/"), detail=True)
        return sum(int(info.get("size") or 0) for info in found.values())

    def download(self, path: ObsPath, local: Path, callback: Callback | None = None) -> int:
        """Copy a file to ``local`` or a folder's contents into ``local``; return the file count.

        ``callback`` hears of the bytes as they arrive (from a remote store)."""
        extra = {"callback": callback} if callback is not None else {}
        if self.is_file(path):
            local.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(path.fs_path, str(local), **extra)
            return 1
        if not self.is_dir(path):
            raise ObjectNotFound(f"{path} does not exist in the object store")
        local.mkdir(parents=True, exist_ok=True)
        files = self._files_under(path, markers=True)
        count = 0
        for fs_path, rel in files:
            target = local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not is_marker(rel):  # a marker stands for its (maybe empty) folder
                self.fs.get_file(fs_path, str(target), **extra)
                count += 1
        return count

    def upload(self, local: Path, path: ObsPath, callback: Callback | None = None) -> int:
        """Copy a local file to ``path`` or a folder's contents under ``path``.

        ``callback`` hears of the bytes as they leave (to a remote store)."""
        if local.is_file():
            self._put(local, path.fs_path, callback)
            return 1
        if not local.is_dir():
            raise FileNotFoundError(f"{local} does not exist")
        count = 0
        for dirpath, _dirs, names in os.walk(local):
            for name in names:
                source = Path(dirpath) / name
                rel = source.relative_to(local).as_posix()
                self._put(source, f"{path.fs_path}/{rel}", callback)
                count += 1
        return count

    def sync(
        self,
        local: Path,
        path: ObsPath,
        state: dict[str, tuple[int, int]],
        only: Collection[str] | None = None,
        within: Path | None = None,
        left_out: list[str] | None = None,
    ) -> int:
        """Upload the files of a folder (or just the ``only`` names at its top)
        that changed since the last sync; return the number uploaded.

        ``within`` is a folder that other people's code controls (a run's): the
        walk and every read stay inside it, never following a link, and links,
        FIFOs and files with several names are left out. ``state`` (relative
        path -> (mtime_ns, size)) is the caller's memory of what was sent; it
        is updated in place. What was left out is added to ``left_out`` once,
        by the first sync that met it.
        """
        root = within or local.parent
        count = 0
        for rel, fd in nofollow.files(root, local.relative_to(root)):
            if only is not None and ("/" in rel or rel not in only):
                continue
            if fd is None:
                if state.get(rel) != LEFT_OUT:
                    state[rel] = LEFT_OUT
                    if left_out is not None:
                        left_out.append(rel)
                continue
            st = os.fstat(fd)
            stamp = (st.st_mtime_ns, st.st_size)
            if state.get(rel) == stamp:
                continue
            target = f"{path.fs_path}/{rel}"
            self._makedirs(target.rsplit("/", 1)[0])
            self._bucket_for(target)
            with os.fdopen(os.dup(fd), "rb") as source, self.fs.open(target, "wb") as out:
                shutil.copyfileobj(source, out, COPY_CHUNK)
            state[rel] = stamp
            count += 1
        return count

    def pull(self, path: ObsPath, local: Path, state: dict[str, tuple[int, int]]) -> int:
        """Download the files under a folder that are new or changed since the last pull.

        ``state`` (relative path -> (size, modification stamp)) is the caller's
        memory of what it holds; updated in place. A missing folder pulls nothing.
        """
        base = path.fs_path.rstrip("/")
        if not self.fs.isdir(base):
            return 0
        count = 0
        for fs_path, info in self.fs.find(base, detail=True).items():
            rel = fs_path[len(base) :].lstrip("/")
            if not rel or info.get("type") == "directory" or ".." in rel.split("/"):
                continue
            if is_marker(rel):
                continue
            mtime = info.get("mtime") or info.get("LastModified") or info.get("created") or 0
            stamp = (int(info.get("size") or 0), hash(str(mtime)))
            if state.get(rel) == stamp:
                continue
            target = local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(fs_path, str(target))
            state[rel] = stamp
            count += 1
        return count

    def _bucket_for(self, fs_path: str) -> None:
        """Make the bucket of ``fs_path`` on a store whose buckets are made, not implied."""
        bucket = fs_path.split("/", 1)[0]
        if self.creates_buckets and bucket not in self._known_buckets:
            if not self.fs.exists(bucket):
                self.fs.mkdir(bucket)
            self._known_buckets.add(bucket)

    def _put(self, source: Path, fs_path: str, callback: Callback | None = None) -> None:
        self._makedirs(fs_path.rsplit("/", 1)[0])
        self._bucket_for(fs_path)
        extra = {"callback": callback} if callback is not None else {}
        self.fs.put_file(str(source), fs_path, **extra)

    def ls(self, path: ObsPath) -> list[Entry]:
        if not self.exists(path):
            raise ObjectNotFound(f"{path} does not exist in the object store")
        entries = []
        for info in self.fs.ls(path.fs_path, detail=True):
            name = str(info["name"]).rstrip("/")
            if is_marker(name):
                continue
            entries.append(
                Entry(
                    path="/" + name,
                    size=int(info.get("size") or 0),
                    is_dir=info.get("type") == "directory",
                )
            )
        return sorted(entries, key=lambda e: e.path)

    def rm(self, path: ObsPath) -> None:
        if not self.exists(path):
            raise ObjectNotFound(f"{path} does not exist in the object store")
        self.fs.rm(path.fs_path, recursive=True)

    def buckets(self) -> list[Entry]:
        try:
            listing = self.fs.ls("", detail=True)
        except FileNotFoundError:
            return []  # on S3 a namespace with no objects yet is no prefix at all
        return sorted(
            (
                Entry(path="/" + str(info["name"]).strip("/"), size=0, is_dir=True)
                for info in listing
                # Names with a leading "." are the store's own (uploads in progress).
                if info.get("type") == "directory"
                and not str(info["name"]).strip("/").rsplit("/", 1)[-1].startswith(".")
            ),
            key=lambda e: e.path,
        )

    def copy(self, src: ObsPath, dst: ObsPath) -> int:
        """Copy within the store: a file to ``dst``, or a folder's contents under it."""
        if self.is_file(src):
            self._makedirs(dst.fs_path.rsplit("/", 1)[0])
            self.fs.cp_file(src.fs_path, dst.fs_path)
            return 1
        if not self.is_dir(src):
            raise ObjectNotFound(f"{src} does not exist in the object store")
        files = self._files_under(src, markers=True)  # empty folders are copied too
        for fs_path, rel in files:
            target = f"{dst.fs_path}/{rel}"
            self._makedirs(target.rsplit("/", 1)[0])
            self.fs.cp_file(fs_path, target)
        return sum(not is_marker(rel) for _, rel in files)


def is_marker(path: str) -> bool:
    return path.rstrip("/").rsplit("/", 1)[-1] == FOLDER_MARKER


def adopt_unowned_buckets(root: ObjectStore, project_id: str) -> list[str]:
    """Move buckets left at the top of a store (from before namespaces existed)
    into ``project_id``'s namespace; return their names."""
    if not root.is_local:
        # Stores other than a folder came after namespaces, so nothing there
        # predates them; and on S3 a move is a copy and a delete of every object,
        # which would also sweep up whatever else shares the bucket.
        return []
    moved = []
    for entry in root.buckets():
        name = entry.path.strip("/")
        if PROJECT_ID.match(name):
            continue
        root.fs.makedirs(project_id, exist_ok=True)
        root.fs.mv(name, f"{project_id}/{name}", recursive=True)
        moved.append(name)
    return moved


def _s3_filesystem(endpoint: str, options: dict[str, Any]) -> fsspec.AbstractFileSystem:
    try:
        from s3fs import S3FileSystem
    except ImportError as exc:
        raise StoreUnavailable(
            "an s3:// object store needs s3fs: pip install 'trainjobs[s3]'"
        ) from exc
    # Other processes (the CLI, the SDK, other servers) write to the same
    # bucket, so a cached listing would hide their objects.
    kwargs: dict[str, Any] = {"use_listings_cache": False}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    kwargs.update(_credentials_from_env())
    kwargs.update(options)
    return S3FileSystem(**kwargs)


def _credentials_from_env() -> dict[str, str]:
    """The OBS-named keys, when the AWS ones are absent; botocore reads the AWS
    ones itself, along with its profiles and instance roles."""
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return {}
    found = {arg: os.environ.get(name, "") for arg, name in OBS_CREDENTIAL_ENV.items()}
    if not (found["key"] and found["secret"]):
        return {}
    return {arg: value for arg, value in found.items() if value}


def _innermost(fs: fsspec.AbstractFileSystem) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem under the ``DirFileSystem`` layers, and the path they root at
    (without its leading "/": it names an S3 bucket first)."""
    parts: list[str] = []
    while isinstance(fs, DirFileSystem):
        parts.insert(0, str(fs.path).strip("/"))
        fs = fs.fs
    return fs, "/".join(p for p in parts if p)


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
