"""``mox.file.shift('os', 'mox')``: the standard file functions accept object paths.

After the shift, ``open``, ``os.listdir``, ``os.path.exists``, ``os.path.isdir``,
``os.path.isfile``, ``os.path.getsize``, ``os.makedirs``, ``os.mkdir``,
``os.remove``, ``os.rename``, ``os.walk``, ``shutil.copyfile``, ``shutil.copy``,
``shutil.copytree``, ``shutil.rmtree`` and ``glob.glob`` go to moxing for
``obs://`` and ``s3://`` paths and stay themselves for local ones;
``shift('mox', 'os')`` puts the originals back.
"""

from __future__ import annotations

import builtins
import glob as _glob
import os
import shutil
import threading
from collections.abc import Callable
from typing import Any

from . import _copying, _local, _ops
from ._fileobj import File
from ._remote import is_remote

_lock = threading.Lock()


def _either(local: Callable[..., Any], remote: Callable[..., Any]) -> Callable[..., Any]:
    def call(path: Any, *args: Any, **kwargs: Any) -> Any:
        target = os.fspath(path) if isinstance(path, os.PathLike) else path
        if is_remote(target):
            return remote(target, *args, **kwargs)
        return local(path, *args, **kwargs)

    call.__name__ = getattr(local, "__name__", "call")
    call.__doc__ = getattr(local, "__doc__", None)
    return call


def _open(
    path: str,
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    *_: Any,
    **__: Any,
) -> File:
    return File(path, mode, encoding=encoding, newline=newline)


def _makedirs(path: str, mode: int = 0o777, exist_ok: bool = False) -> None:
    if not exist_ok and _ops.exists(path):
        raise FileExistsError(17, f"File exists: {path}")
    _ops.make_dirs(path)


def _remove_file(path: str, *_: Any, **__: Any) -> None:
    if _ops.is_directory(path) and not _ops.exists_file(path):
        raise IsADirectoryError(21, f"Is a directory: {path}")
    _ops.remove(path)


def _rmtree(path: str, ignore_errors: bool = False, *_: Any, **__: Any) -> None:
    try:
        _ops.remove(path, recursive=True)
    except OSError:
        if not ignore_errors:
            raise


def _copy_to(src: Any, dst: Any, *_: Any, **__: Any) -> str:
    src, dst = os.fspath(src), os.fspath(dst)
    if is_remote(src) or is_remote(dst):
        if _ops.is_directory(dst):  # like shutil.copy: into a folder, under the same name
            dst = _ops.join(dst, src.rstrip("/").rsplit("/", 1)[-1])
        _copying.copy(src, dst)
        return dst
    return str(_local.copy(src, dst))


def _copyfile(src: Any, dst: Any, *_: Any, **__: Any) -> str:
    src, dst = os.fspath(src), os.fspath(dst)
    if is_remote(src) or is_remote(dst):
        _copying.copy(src, dst)
        return dst
    return str(_local.copyfile(src, dst))


def _copytree(src: Any, dst: Any, *args: Any, **kwargs: Any) -> str:
    src, dst = os.fspath(src), os.fspath(dst)
    if is_remote(src) or is_remote(dst):
        if _ops.exists(dst) and not kwargs.get("dirs_exist_ok"):
            raise FileExistsError(17, f"File exists: {dst}")
        _copying.copy_parallel(src, dst)
        return dst
    return str(_local.copytree(src, dst, *args, **kwargs))


def _walk(top: Any, topdown: bool = True, onerror: Any = None, followlinks: bool = False) -> Any:
    if is_remote(os.fspath(top)):
        return _ops.walk(top, topdown=topdown, onerror=onerror)
    return _local.walk(top, topdown=topdown, onerror=onerror, followlinks=followlinks)


def _rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
    if is_remote(os.fspath(src)) or is_remote(os.fspath(dst)):
        _copying.rename(src, dst)
    else:
        _local.rename(src, dst, *args, **kwargs)


def _glob_glob(pattern: Any, *args: Any, **kwargs: Any) -> list[str]:
    if is_remote(os.fspath(pattern)):
        return _ops.glob(pattern)
    return list(_local.glob(pattern, *args, **kwargs))


def _exists_local(path: Any) -> bool:
    return bool(_local.exists(path))


# (owner, attribute, replacement); the originals are kept in _local.
_TABLE: list[tuple[Any, str, Callable[..., Any]]] = [
    (builtins, "open", _either(_local.open_, _open)),
    (os, "listdir", _either(_local.listdir, _ops.list_directory)),
    (os.path, "exists", _either(_exists_local, _ops.exists)),
    (os.path, "isdir", _either(_local.isdir, _ops.is_directory)),
    (os.path, "isfile", _either(_local.isfile, _ops.exists_file)),
    (os.path, "getsize", _either(_local.getsize, _ops.get_size)),
    (os, "makedirs", _either(_local.makedirs, _makedirs)),
    (os, "mkdir", _either(_local.mkdir, lambda p, *a, **k: _ops.mk_dir(p))),
    (os, "remove", _either(_local.remove, _remove_file)),
    (os, "unlink", _either(_local.remove, _remove_file)),
    (os, "rename", _rename),
    (os, "walk", _walk),
    (shutil, "copyfile", _copyfile),
    (shutil, "copy", _copy_to),
    (shutil, "copytree", _copytree),
    (shutil, "rmtree", _either(_local.rmtree, _rmtree)),
    (_glob, "glob", _glob_glob),
]
_ORIGINALS: list[tuple[Any, str, Any]] = [(o, a, getattr(o, a)) for o, a, _ in _TABLE]


def shift(src: str, dst: str) -> None:
    """``shift('os', 'mox')`` turns the standard functions to moxing for object
    paths; ``shift('mox', 'os')`` turns them back."""
    pair = (src.lower(), dst.lower())
    with _lock:
        if pair == ("os", "mox"):
            for owner, name, replacement in _TABLE:
                setattr(owner, name, replacement)
        elif pair == ("mox", "os"):
            for owner, name, original in _ORIGINALS:
                setattr(owner, name, original)
        else:
            raise ValueError(
                f"shift({src!r}, {dst!r}): use shift('os', 'mox') or shift('mox', 'os')"
            )
