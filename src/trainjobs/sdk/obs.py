"""``session.obs``: the legacy OBS helper, on the service's object store: directly
beside the server, through its S3-compatible endpoint anywhere else
(``trainjobs.sdk.object_access``).

Store paths may be written ``obs://bucket/dir/``, ``s3://bucket/dir/`` or
``/bucket/dir/``. A destination is always a folder: what is copied lands inside
it under its own name, as the legacy SDK did.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

from trainjobs.objectstore import ObjectStore, ObsPath, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.sdk.errors import CLIENT_ERROR, InvalidArgument

MAX_DOWNLOAD_BYTES = 5 * 1024**3  # the legacy helper's limit per file
INVALID_STORE_PATH = "ModelArts.2791"
OBJECT_NOT_FOUND = "trainjobs.object_not_found"

PathLike = str | os.PathLike[str]


class Obs:
    def __init__(
        self,
        object_store_url: str,
        project_id: str,
        endpoint: str = "",
        opener: Callable[[], ObjectStore] | None = None,
    ) -> None:
        """The store at ``object_store_url`` (``endpoint``: an S3 back end's URL), or
        whatever ``opener`` opens (the Session's choice of store)."""
        self.object_store_url = object_store_url
        self.project_id = project_id
        self.endpoint = endpoint  # an S3-compatible store's URL
        self._opener = opener
        self._store: ObjectStore | None = None

    @property
    def store(self) -> ObjectStore:
        # Opened on first use, so a Session that never touches storage costs nothing.
        if self._store is None:
            if self._opener is not None:
                self._store = self._opener()
            else:
                root = ObjectStore.from_url(self.object_store_url, endpoint=self.endpoint)
                self._store = root.for_project(self.project_id)
        return self._store

    def list(self, obs_dir: str) -> list[str]:
        """The paths of a store folder's entries (folders end in '/'); a bucket's when
        ``obs_dir`` names one."""
        entries = self.store.ls(_store_path(obs_dir))
        return [e.path + ("/" if e.is_dir else "") for e in entries]

    def delete(self, obs_path: str) -> None:
        """Remove an object, or a folder with everything under it."""
        target = _store_path(obs_path)
        if not self.store.exists(target):
            raise InvalidArgument(OBJECT_NOT_FOUND, f"{obs_path} does not exist in the store")
        self.store.rm(target)

    def upload_file(self, src_local_file: PathLike, dst_obs_dir: str) -> str:
        """Copy a local file into a store folder; return the object's path."""
        source = Path(src_local_file)
        if not source.is_file():
            raise InvalidArgument(CLIENT_ERROR, f"{source} is not a file")
        target = _store_path(dst_obs_dir).join(source.name)
        self.store.upload(source, target)
        return str(target)

    def upload_dir(self, src_local_dir: PathLike, dst_obs_dir: str) -> str:
        """Copy a local folder under a store folder, keeping its name; return the new folder."""
        source = Path(src_local_dir)
        if not source.is_dir():
            raise InvalidArgument(CLIENT_ERROR, f"{source} is not a folder")
        target = _store_path(dst_obs_dir).join(source.resolve().name)
        self.store.upload(source, target)
        return f"{target}/"

    def download_file(self, src_obs_file: str, dst_local_dir: PathLike) -> str:
        """Copy one object into a local folder; return the local file's path."""
        source = _store_path(src_obs_file)
        if not source.key or not self.store.is_file(source):
            raise InvalidArgument(OBJECT_NOT_FOUND, f"{src_obs_file} is not a file in the store")
        size = int(self.store.fs.size(source.fs_path) or 0)
        if size > MAX_DOWNLOAD_BYTES:
            raise InvalidArgument(
                CLIENT_ERROR, f"{src_obs_file} is larger than 5 GB ({size} bytes); not downloaded"
            )
        target = Path(dst_local_dir) / source.key.rsplit("/", 1)[-1]
        self.store.download(source, target)
        return str(target)

    def download_dir(self, src_obs_dir: str, dst_local_dir: PathLike) -> str:
        """Copy a store folder into a local folder, keeping its name; return the new folder.

        Files over 5 GB are skipped with a warning; the others still come down.
        """
        source = _store_path(src_obs_dir)
        if not self.store.is_dir(source):
            raise InvalidArgument(OBJECT_NOT_FOUND, f"{src_obs_dir} is not a folder in the store")
        name = source.key.rsplit("/", 1)[-1] if source.key else source.bucket
        target = Path(dst_local_dir) / name
        base = source.fs_path.rstrip("/")
        found = self.store.fs.find(base, detail=True)
        for fs_path, info in sorted(found.items()):
            rel = str(fs_path)[len(base) :].lstrip("/")
            if not rel:
                continue
            size = int(info.get("size") or 0)
            if size > MAX_DOWNLOAD_BYTES:
                warnings.warn(f"skipped /{fs_path}: larger than 5 GB", stacklevel=2)
                continue
            self.store.download(source.join(rel), target / rel)
        target.mkdir(parents=True, exist_ok=True)
        return str(target)


def _store_path(text: str) -> ObsPath:
    try:
        return parse_obs_path(str(text))
    except InvalidObsPath as exc:
        raise InvalidArgument(INVALID_STORE_PATH, str(exc)) from exc
