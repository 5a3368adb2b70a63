"""What a version ran: a digest of its staged code, kept as a snapshot, and a
manifest of its data input.

The code digest is a Merkle digest: each file's SHA-256 over its bytes, each
folder's over its sorted entries (kind, name, digest), the root's is the
version's ``code_digest``. Two staged folders with the same files have the same
digest whatever their mtimes or where they were staged. The staged files are
kept once per distinct digest in the project's object store, so a re-run stages
exactly those bytes even after the code folder changed.

Staged code is the run's own: it is read without following links, and
anything that is neither a file nor a folder is left out of the digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.store import ObjectNotFound

# Where snapshots live in each project's namespace, one folder per digest.
SNAPSHOT_ROOT = "/trainjobs/code-snapshots"
FILES = "files"
INDEX = "index.json"  # written last: a snapshot without it is incomplete
MANIFEST_LIMIT = 10_000  # data files listed in a version's manifest
CHUNK = 1 << 20


class SnapshotError(Exception):
    """A snapshot cannot be kept or restored; the message says what to do."""


@dataclass(frozen=True)
class CodeFile:
    path: str  # relative, with "/"
    size: int
    sha256: str


def _open_no_follow(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)


def _file_digest(path: Path) -> tuple[str, int]:
    fd = _open_no_follow(path)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _walk(folder: Path, prefix: str, files: list[CodeFile]) -> str:
    """The folder's Merkle digest; its files are appended to ``files``."""
    entries = []
    with os.scandir(folder) as it:
        listing = sorted(it, key=lambda e: e.name)
    for entry in listing:
        mode = entry.stat(follow_symlinks=False).st_mode
        rel = f"{prefix}{entry.name}"
        if stat.S_ISDIR(mode):
            sub = _walk(Path(entry.path), rel + "/", files)
            entries.append(f"tree {entry.name} {sub}")
        elif stat.S_ISREG(mode):
            sha, size = _file_digest(Path(entry.path))
            files.append(CodeFile(rel, size, sha))
            entries.append(f"blob {entry.name} {sha}")
    return hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()


def code_tree(folder: Path) -> tuple[str, list[CodeFile]]:
    """The Merkle digest of a staged code folder and its files (an absent folder is empty)."""
    files: list[CodeFile] = []
    if not folder.is_dir() or folder.is_symlink():
        return hashlib.sha256(b"").hexdigest(), files
    return _walk(folder, "", files), files


def _snapshot_path(digest: str, *parts: str) -> Any:
    return parse_obs_path("/".join([SNAPSHOT_ROOT, digest, *parts]))


def keep(store: ObjectStore, folder: Path, digest: str, files: list[CodeFile]) -> bool:
    """Keep the staged code as the snapshot of ``digest`` unless it is kept
    already; whether it was uploaded now."""
    index = _snapshot_path(digest, INDEX)
    if store.is_file(index):
        return False
    if files:
        store.upload(folder, _snapshot_path(digest, FILES))
    listing = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files]
    tmp = folder.parent / f".{digest}.index.json"
    tmp.write_text(json.dumps({"digest": digest, "files": listing}))
    try:
        store.upload(tmp, index)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def restore(store: ObjectStore, digest: str, target: Path) -> int:
    """Stage the snapshot of ``digest`` into ``target`` and check it is exactly that
    code; the number of files."""
    if not store.is_file(_snapshot_path(digest, INDEX)):
        raise SnapshotError(
            f"the code snapshot {digest} is not in the object store "
            f"({SNAPSHOT_ROOT}/{digest}/); it was removed, so this code cannot be re-run"
        )
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        if store.is_dir(_snapshot_path(digest, FILES)):
            count = store.download(_snapshot_path(digest, FILES), target)
    except (ObjectNotFound, OSError) as exc:
        raise SnapshotError(f"the code snapshot {digest} could not be read: {exc}") from exc
    found, _files = code_tree(target)
    if found != digest:
        raise SnapshotError(
            f"the code snapshot {digest} was changed in the object store (its files now "
            f"digest to {found}); it can no longer be re-run exactly"
        )
    return count


def files_url(digest: str) -> str:
    """The folder of a snapshot's files, as a ``/bucket/key`` path of the project."""
    return "/".join([SNAPSHOT_ROOT, digest, FILES])


def is_kept(store: ObjectStore, digest: str) -> bool:
    return bool(digest) and store.is_file(_snapshot_path(digest, INDEX))


def read_files(store: ObjectStore, digest: str) -> dict[str, bytes]:
    """Every file of a kept snapshot, by relative path ({} when it is not kept)."""
    if not digest or not store.is_dir(_snapshot_path(digest, FILES)):
        return {}
    base = _snapshot_path(digest, FILES).fs_path.rstrip("/")
    out = {}
    for fs_path in store.fs.find(base, detail=False):
        rel = str(fs_path)[len(base) :].lstrip("/")
        if rel:
            out[rel] = bytes(store.fs.cat_file(fs_path))
    return out


def data_manifest(store: ObjectStore, urls: list[str], staged: Path) -> list[dict[str, Any]]:
    """What the data input held when it was staged: each file's path in the object
    store, size and ETag (where the store gives one) or SHA-256 of the staged copy."""
    manifest: list[dict[str, Any]] = []
    for url in urls:
        base = parse_obs_path(url)
        try:
            if store.is_file(base):
                found = {base.fs_path: store.fs.info(base.fs_path)}
            else:
                found = store.fs.find(base.fs_path.rstrip("/"), detail=True)
        except (OSError, ValueError):
            continue
        prefix = base.fs_path.rstrip("/")
        for fs_path, info in sorted(found.items()):
            if len(manifest) >= MANIFEST_LIMIT:
                manifest.append({"truncated": True})
                return manifest
            item: dict[str, Any] = {
                "path": "/" + str(fs_path).lstrip("/"),
                "size": info.get("size", 0),
            }
            etag = info.get("ETag") or info.get("etag")
            if etag:
                item["etag"] = str(etag).strip('"')
            else:
                rel = str(fs_path)[len(prefix) :].lstrip("/") or Path(str(fs_path)).name
                with contextlib.suppress(OSError):
                    item["sha256"] = _file_digest(staged / rel)[0]
            manifest.append(item)
    return manifest


@dataclass(frozen=True)
class Captured:
    """What a version is about to run, recorded before it starts."""

    code_digest: str
    files: int
    kept_now: bool  # the snapshot was uploaded now (not kept before)
    keep_error: str  # why the snapshot could not be kept; "" when it was
    data_manifest: list[dict[str, Any]]


def capture(store: ObjectStore, code: Path, data_urls: list[str], data: Path) -> Captured:
    """Digest and keep the staged code, and list the staged data input."""
    digest, files = code_tree(code)
    kept_now, error = False, ""
    try:
        kept_now = keep(store, code, digest, files)
    except (OSError, ValueError) as exc:
        error = f"the code snapshot could not be kept, so this version cannot be re-run: {exc}"
    return Captured(digest, len(files), kept_now, error, data_manifest(store, data_urls, data))
