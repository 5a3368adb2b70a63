"""The object store: copy folders and files between OBS paths and local disk.

The filesystem is any fsspec implementation whose paths read ``bucket/key``:
a folder on disk (the embedded default) or an S3-compatible store. The service
and its clients see one project's namespace at a time (``for_project``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from trainjobs.objectstore.paths import ObsPath

PROJECT_ID = re.compile(r"^[0-9a-f]{32}$")


class ObjectNotFound(FileNotFoundError):
    pass


@dataclass(frozen=True)
class Entry:
    path: str  # as an OBS path, "/bucket/key"
    size: int
    is_dir: bool


class ObjectStore:
    def __init__(self, fs: fsspec.AbstractFileSystem) -> None:
        self.fs = fs

    @classmethod
    def from_url(cls, url: str, **options: Any) -> ObjectStore:
        """``s3://`` (and other fsspec protocols) or a local folder."""
        protocol, _, rest = url.partition("://")
        if rest and protocol != "file":
            return cls(fsspec.filesystem(protocol, **options))
        root = Path(rest if rest else url)
        root.mkdir(parents=True, exist_ok=True)
        return cls(DirFileSystem(path=str(root.resolve()), fs=LocalFileSystem()))

    def for_project(self, project_id: str) -> ObjectStore:
        """The project's own namespace: its buckets live in a folder named after it,
        so no path of one project can name another's objects."""
        if not PROJECT_ID.match(project_id):
            raise ValueError(f"{project_id!r} is not a project id")
        self.fs.makedirs(project_id, exist_ok=True)
        return ObjectStore(DirFileSystem(path=project_id, fs=self.fs))

    def exists(self, path: ObsPath) -> bool:
        return bool(self.fs.exists(path.fs_path))

    def is_dir(self, path: ObsPath) -> bool:
        return bool(self.fs.isdir(path.fs_path))

    def is_file(self, path: ObsPath) -> bool:
        return bool(self.fs.isfile(path.fs_path))

    def _files_under(self, path: ObsPath) -> list[tuple[str, str]]:
        """(fs path, path relative to ``path``) of every file under a folder."""
        base = path.fs_path.rstrip("/")
        found = self.fs.find(base, detail=False)
        return [(f, f[len(base) :].lstrip("/")) for f in found if f != base]

    def download(self, path: ObsPath, local: Path) -> int:
        """Copy a file to ``local`` or a folder's contents into ``local``; return the file count."""
        if self.is_file(path):
            local.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(path.fs_path, str(local))
            return 1
        if not self.is_dir(path):
            raise ObjectNotFound(f"{path} does not exist in the object store")
        local.mkdir(parents=True, exist_ok=True)
        files = self._files_under(path)
        for fs_path, rel in files:
            target = local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(fs_path, str(target))
        return len(files)

    def upload(self, local: Path, path: ObsPath) -> int:
        """Copy a local file to ``path`` or a folder's contents under ``path``."""
        if local.is_file():
            self._put(local, path.fs_path)
            return 1
        if not local.is_dir():
            raise FileNotFoundError(f"{local} does not exist")
        count = 0
        for dirpath, _dirs, names in os.walk(local):
            for name in names:
                source = Path(dirpath) / name
                rel = source.relative_to(local).as_posix()
                self._put(source, f"{path.fs_path}/{rel}")
                count += 1
        return count

    def sync(
        self,
        local: Path,
        path: ObsPath,
        state: dict[str, tuple[int, int]],
        only: Collection[str] | None = None,
    ) -> int:
        """Upload the files of a folder (or just the ``only`` names at its top)
        that changed since the last sync.

        ``state`` (relative path -> (mtime_ns, size)) is the caller's memory of
        what was sent; it is updated in place. Returns the number uploaded.
        """
        count = 0
        for dirpath, _dirs, names in os.walk(local):
            for name in names:
                source = Path(dirpath) / name
                if only is not None and (source.parent != local or name not in only):
                    continue
                try:
                    st = source.stat()
                except OSError:
                    continue  # removed while we walked
                rel = source.relative_to(local).as_posix()
                stamp = (st.st_mtime_ns, st.st_size)
                if state.get(rel) == stamp:
                    continue
                self._put(source, f"{path.fs_path}/{rel}")
                state[rel] = stamp
                count += 1
        return count

    def _put(self, source: Path, fs_path: str) -> None:
        parent = fs_path.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        self.fs.put_file(str(source), fs_path)

    def ls(self, path: ObsPath) -> list[Entry]:
        if not self.exists(path):
            raise ObjectNotFound(f"{path} does not exist in the object store")
        entries = []
        for info in self.fs.ls(path.fs_path, detail=True):
            name = str(info["name"]).rstrip("/")
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
        return [
            Entry(path="/" + str(info["name"]).strip("/"), size=0, is_dir=True)
            for info in self.fs.ls("", detail=True)
            if info.get("type") == "directory"
        ]

    def copy(self, src: ObsPath, dst: ObsPath) -> int:
        """Copy within the store: a file to ``dst``, or a folder's contents under it."""
        if self.is_file(src):
            self.fs.makedirs(dst.fs_path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.cp_file(src.fs_path, dst.fs_path)
            return 1
        if not self.is_dir(src):
            raise ObjectNotFound(f"{src} does not exist in the object store")
        files = self._files_under(src)
        for fs_path, rel in files:
            target = f"{dst.fs_path}/{rel}"
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            self.fs.cp_file(fs_path, target)
        return len(files)


def adopt_unowned_buckets(root: ObjectStore, project_id: str) -> list[str]:
    """Move buckets left at the top of a store (from before namespaces existed)
    into ``project_id``'s namespace; return their names."""
    moved = []
    for entry in root.buckets():
        name = entry.path.strip("/")
        if PROJECT_ID.match(name):
            continue
        root.fs.makedirs(project_id, exist_ok=True)
        root.fs.mv(name, f"{project_id}/{name}", recursive=True)
        moved.append(name)
    return moved
