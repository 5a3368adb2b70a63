"""mox.file's copies and moves, between local paths and object paths alike.

A folder is copied ``threads`` files at a time over the object client's
keep-alive connections; errors are the OSErrors of ``_ops``.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

from . import _local, _remote
from ._ops import _fs, _missing, _tree, is_directory, join, make_dirs, remove
from ._remote import is_remote


def copy(src_url: Any, dst_url: Any) -> None:
    """Copy one file to a file path (its folders are made); a folder source is
    IsADirectoryError: folders go with copy_parallel."""
    src, dst = _fs(src_url), _fs(dst_url)
    size = _file_size(src)
    _copy_file(src, dst, size)


def _file_size(src: str) -> int:
    if is_remote(src):
        u = _remote.parse(src)
        meta = _remote.head(u)
        if meta is None:
            if _remote.is_dir(u):
                raise IsADirectoryError(21, f"Is a directory (use copy_parallel): {src}")
            raise _missing(src)
        return int(meta.get("ContentLength", 0))
    if _local.isdir(src):
        raise IsADirectoryError(21, f"Is a directory (use copy_parallel): {src}")
    return int(_local.getsize(src))


def _copy_file(src: str, dst: str, size: int) -> None:
    if is_remote(src) and is_remote(dst):
        _remote.copy_object(_remote.parse(src), _remote.parse(dst))
    elif is_remote(src):
        _remote.download(_remote.parse(src), dst, size)
    elif is_remote(dst):
        _remote.upload(src, _remote.parse(dst))
    else:
        parent = os.path.dirname(dst)
        if parent:
            _local.makedirs(parent, exist_ok=True)
        _local.copyfile(src, dst)


def copy_parallel(
    src_url: Any,
    dst_url: Any,
    file_list: list[str] | None = None,
    threads: int = 16,
    is_processing: bool = True,
    use_queue: bool = True,
) -> None:
    """Copy a folder's files into a folder (made if missing; files already there
    stay unless overwritten), ``threads`` at a time over keep-alive connections.

    ``file_list`` copies only those paths, relative to ``src_url``. A source
    that does not exist (or an empty ``src_url``) raises FileNotFoundError, a
    file NotADirectoryError (use copy). ``is_processing`` and ``use_queue``
    are accepted for compatibility; the copy always runs in threads.
    """
    src, dst = _fs(src_url), _fs(dst_url)
    if not src:
        raise _missing(src)
    files, folders = _tree(src)
    if file_list is not None:
        wanted = [p.lstrip("/") for p in file_list]
        for path in wanted:
            if path not in files:
                raise _missing(join(src, path))
        files = {p: files[p] for p in wanted}
        folders = set()
    jobs = sorted(files.items())
    if is_remote(dst):
        # An object store's folders exist through what lies in them: only empty
        # ones need a folder object of their own.
        occupied = {
            "/".join(parts[:i])
            for path in (*files, *folders)
            for parts in [path.split("/")]
            for i in range(1, len(parts))
        }
        folders = {f for f in folders if f not in occupied}
        if not jobs and not folders:
            make_dirs(dst)
    else:
        make_dirs(dst)
    for folder in sorted(folders):
        make_dirs(join(dst, folder))
    if threads <= 1 or len(jobs) <= 1:
        for rel, size in jobs:
            _copy_file(join(src, rel), join(dst, rel), size)
        return
    with ThreadPoolExecutor(max_workers=min(threads, _remote.POOL_CONNECTIONS)) as pool:
        futures = [
            pool.submit(_copy_file, join(src, rel), join(dst, rel), size) for rel, size in jobs
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        for f in futures:
            if f.done() and not f.cancelled() and f.exception() is not None:
                raise f.exception()  # type: ignore[misc]


def rename(src_url: Any, dst_url: Any) -> None:
    """Move a file or a folder (across local and object paths too)."""
    src, dst = _fs(src_url), _fs(dst_url)
    if not is_remote(src) and not is_remote(dst):
        _local.move(src, dst)
        return
    if is_directory(src) and not (is_remote(src) and _remote.is_file(_remote.parse(src))):
        copy_parallel(src, dst)
        remove(src, recursive=True)
    else:
        copy(src, dst)
        remove(src)
