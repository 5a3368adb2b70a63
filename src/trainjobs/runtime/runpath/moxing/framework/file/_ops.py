"""mox.file's operations: each works on local paths and object paths alike.

Errors are the built-in OSErrors a local file operation raises, for object
paths too: FileNotFoundError, IsADirectoryError, NotADirectoryError,
FileExistsError, PermissionError.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import _local, _remote
from ._fileobj import File
from ._remote import Url, is_remote

MAGIC = ("*", "?", "[")


@dataclass(frozen=True)
class FileStat:
    """What stat() returns: the fields of tf.gfile's FileStatistics."""

    length: int
    mtime_nsec: int
    is_directory: bool


def _fs(path: Any) -> str:
    return os.fspath(path)


def _missing(path: str) -> FileNotFoundError:
    return FileNotFoundError(2, f"No such file or directory: {path}")


def join(top: str, rel: str) -> str:
    if not rel:
        return top
    if is_remote(top):
        return top.rstrip("/") + "/" + rel if not top.endswith("://") else top + rel
    return os.path.join(top, rel)


# -- asking about paths --------------------------------------------------------


def exists(url: Any) -> bool:
    """Whether a file or folder is at this path."""
    url = _fs(url)
    if is_remote(url):
        u = _remote.parse(url)
        return _remote.is_file(u) or _remote.is_dir(u)
    return bool(_local.exists(url))


def exists_file(url: Any) -> bool:
    """Whether a file (not a folder) is at this path."""
    url = _fs(url)
    if is_remote(url):
        return _remote.is_file(_remote.parse(url))
    return bool(_local.isfile(url))


def is_directory(url: Any) -> bool:
    """Whether a folder is at this path (on OBS: objects lie under it)."""
    url = _fs(url)
    if is_remote(url):
        return _remote.is_dir(_remote.parse(url))
    return bool(_local.isdir(url))


def _local_tree(top: str) -> tuple[dict[str, int], set[str]]:
    files: dict[str, int] = {}
    folders: set[str] = set()
    for dirpath, dirnames, filenames in _local.walk(top):
        rel = os.path.relpath(dirpath, top)
        base = "" if rel == "." else rel + "/"
        folders.update(base + d for d in dirnames)
        for name in filenames:
            files[base + name] = _local.getsize(os.path.join(dirpath, name))
    return files, folders


def _tree(url: str) -> tuple[dict[str, int], set[str]]:
    """Files (relative path -> size) and folders under a folder that must exist."""
    if is_remote(url):
        u = _remote.parse(url)
        if not _remote.is_dir(u):
            raise (
                NotADirectoryError(20, f"Not a directory: {url}")
                if _remote.is_file(u)
                else _missing(url)
            )
        return _remote.tree(u)
    if not _local.isdir(url):
        if _local.exists(url):
            raise NotADirectoryError(20, f"Not a directory: {url}")
        raise _missing(url)
    return _local_tree(url)


def list_directory(url: Any, recursive: bool = False) -> list[str]:
    """The names in a folder, sorted; with ``recursive`` the relative paths of every
    file and folder below it. A missing folder raises FileNotFoundError, a file
    NotADirectoryError."""
    url = _fs(url)
    if recursive:
        files, folders = _tree(url)
        return sorted(set(files) | folders)
    if not is_remote(url):
        return sorted(_local.listdir(url))
    u = _remote.parse(url)
    names = {rel.rstrip("/") for rel, _ in _remote.objects(u, delimiter="/")} - {""}
    if not names and not _remote.is_dir(u):
        if _remote.is_file(u):
            raise NotADirectoryError(20, f"Not a directory: {url}")
        raise _missing(url)
    return sorted(names)


def walk(
    top: Any, topdown: bool = True, onerror: Any = None
) -> Iterator[tuple[str, list[str], list[str]]]:
    """(folder, its sub-folders, its files) for every folder under ``top``, as os.walk."""
    top = _fs(top)
    if not is_remote(top):
        yield from _local.walk(top, topdown=topdown, onerror=onerror)
        return
    try:
        files, folders = _tree(top)
    except OSError as exc:
        if onerror is not None:
            onerror(exc)
        return
    subdirs: dict[str, list[str]] = {"": []}
    names: dict[str, list[str]] = {"": []}
    for folder in sorted(folders):
        parent, _, name = folder.rpartition("/")
        subdirs.setdefault(parent, []).append(name)
        subdirs.setdefault(folder, [])
        names.setdefault(folder, [])
    for path in sorted(files):
        parent, _, name = path.rpartition("/")
        names.setdefault(parent, []).append(name)

    def visit(rel: str) -> Iterator[tuple[str, list[str], list[str]]]:
        dirs = list(subdirs.get(rel, []))
        entry = (join(top.rstrip("/") or top, rel), dirs, list(names.get(rel, [])))
        if topdown:
            yield entry
        for d in entry[1]:  # a top-down caller may prune the list, as with os.walk
            yield from visit(f"{rel}/{d}" if rel else d)
        if not topdown:
            yield entry

    yield from visit("")


def glob(pattern: Any) -> list[str]:
    """The paths that match a shell pattern (``*``, ``?``, ``[...]`` within a name)."""
    pattern = _fs(pattern)
    if not is_remote(pattern):
        return sorted(_local.glob(pattern))
    u = _remote.parse(pattern)
    parts = u.key.rstrip("/").split("/") if u.key else []
    fixed = 0
    while fixed < len(parts) and not any(m in parts[fixed] for m in MAGIC):
        fixed += 1
    base = f"{u.scheme}{u.bucket}/" + "".join(p + "/" for p in parts[:fixed])
    if fixed == len(parts):
        return [pattern] if exists(pattern) else []
    try:
        files, folders = _remote.tree(_remote.parse(base))
    except FileNotFoundError:
        return []
    wanted = parts[fixed:]
    found = []
    for rel in set(files) | folders:
        segments = rel.split("/")
        if len(segments) != len(wanted):
            continue
        if all(
            fnmatch.fnmatchcase(s, w) and (w.startswith(".") or not s.startswith("."))
            for s, w in zip(segments, wanted, strict=True)
        ):
            found.append(base + rel)
    return sorted(found)


def get_size(url: Any, recursive: bool = False) -> int:
    """A file's size in bytes; a folder's is the total of its files with
    ``recursive``, else 0 (a folder object holds nothing itself)."""
    url = _fs(url)
    if is_remote(url):
        u = _remote.parse(url)
        meta = _remote.head(u)
        if meta is not None:
            return int(meta.get("ContentLength", 0))
        if not _remote.is_dir(u):
            raise _missing(url)
    elif not _local.isdir(url):
        return int(_local.getsize(url))
    return sum(_tree(url)[0].values()) if recursive else 0


def stat(url: Any) -> FileStat:
    """length, mtime_nsec and is_directory of a file or folder."""
    url = _fs(url)
    if not is_remote(url):
        st = _local.stat(url)
        return FileStat(st.st_size, st.st_mtime_ns, bool(_local.isdir(url)))
    u = _remote.parse(url)
    meta = _remote.head(u)
    if meta is not None:
        mtime = meta.get("LastModified")
        nsec = int(mtime.timestamp() * 1e9) if mtime is not None else 0
        return FileStat(int(meta.get("ContentLength", 0)), nsec, False)
    if _remote.is_dir(u):
        return FileStat(0, 0, True)
    raise _missing(url)


# -- reading and writing -------------------------------------------------------


def read(url: Any, binary: bool = False) -> str | bytes:
    """A file's whole content: text, or bytes with ``binary``."""
    with File(_fs(url), "rb" if binary else "r") as f:
        data: str | bytes = f.read()
    return data


def _parent_made(url: str) -> str:
    """Local folders are made as an object path's are: by writing below them."""
    if not is_remote(url) and os.path.dirname(url):
        _local.makedirs(os.path.dirname(url), exist_ok=True)
    return url


def write(url: Any, content: str | bytes, binary: bool = False) -> None:
    """Replace a file's content, making its folders (bytes are written as they are,
    whatever ``binary``)."""
    _parent_made(_fs(url))
    with File(_fs(url), "wb" if binary or isinstance(content, bytes) else "w") as f:
        f.write(content)


def append(url: Any, content: str | bytes, binary: bool = False) -> None:
    """Add to the end of a file, making it (and its folders) if missing."""
    _parent_made(_fs(url))
    with File(_fs(url), "ab" if binary or isinstance(content, bytes) else "a") as f:
        f.write(content)


# -- changing folders ----------------------------------------------------------


def make_dirs(url: Any) -> None:
    """Make a folder and its missing parents; one that exists is fine."""
    url = _fs(url)
    if not is_remote(url):
        _local.makedirs(url, exist_ok=True)
        return
    u = _remote.parse(url)
    if not u.prefix:
        if not _remote.bucket_exists(u):
            raise _missing(url)
        return
    if _remote.is_file(Url(u.scheme, u.bucket, u.key.rstrip("/"))):
        raise FileExistsError(17, f"File exists: {url}")
    if not _remote.is_dir(u):
        _remote.put_bytes(Url(u.scheme, u.bucket, u.prefix), b"")


def mk_dir(url: Any) -> None:
    """Make one folder: its parent must exist, the folder must not."""
    url = _fs(url)
    if not is_remote(url):
        _local.mkdir(url)
        return
    u = _remote.parse(url)
    if not u.prefix or exists(url):
        raise FileExistsError(17, f"File exists: {url}")
    parent = u.key.rstrip("/").rpartition("/")[0]
    if not _remote.is_dir(Url(u.scheme, u.bucket, parent)):
        raise _missing(url)
    _remote.put_bytes(Url(u.scheme, u.bucket, u.prefix), b"")


def remove(url: Any, recursive: bool = False) -> None:
    """Remove a file; a folder only with ``recursive=True`` (else IsADirectoryError).

    On object paths a folder exists through what lies in it, so removing the
    last file of a folder that has no folder object removes the folder too."""
    url = _fs(url)
    if not is_remote(url):
        if _local.isdir(url) and not os.path.islink(url):
            if not recursive:
                raise IsADirectoryError(21, f"Is a directory (use recursive=True): {url}")
            _local.rmtree(url)
        else:
            _local.remove(url)
        return
    u = _remote.parse(url)
    if _remote.is_file(u):
        _remote.delete(u, [u.key])
        return
    if not _remote.is_dir(u):
        raise _missing(url)
    if not recursive:
        raise IsADirectoryError(21, f"Is a directory (use recursive=True): {url}")
    keys = [u.prefix + rel for rel, _ in _remote.objects(u)]
    _remote.delete(u, keys)
