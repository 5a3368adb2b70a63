"""Files in a folder that other people's code controls, opened without following links.

A run may replace anything in its folder with a symbolic link (to the server's
database, to another run's outputs) or a hard link, a FIFO or a device. The
server reads and writes a run's files with its own rights, so it opens them
here: every path component below a trusted root with ``O_NOFOLLOW`` through
the folder's descriptor (a link anywhere on the way fails with ``ELOOP`` or
``ENOTDIR``), never blocking (a FIFO would), and only plain files with one
name (a hard link is the same file as its target).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePath

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class NotAPlainFile(OSError):
    """The path names a link, a folder, a FIFO or a device: nothing to read or write."""


def _parts(root: Path, path: PurePath | str) -> list[str]:
    target = PurePath(path)
    relative = target.relative_to(root) if target.is_absolute() else target
    parts = list(relative.parts)
    if not parts or any(p in ("..", "/", "") for p in parts):
        raise NotAPlainFile(errno.EINVAL, "not a path inside the folder", str(path))
    return parts


def open_folder(root: Path, folders: list[str] | tuple[str, ...] = ()) -> int:
    """A descriptor of ``root`` (itself not followed if it is a link) or of a folder below."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for name in folders:
            below = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = below
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_beneath(root: Path, path: PurePath | str, flags: int, mode: int = 0o644) -> int:
    """A descriptor of a plain file at ``path`` (absolute under ``root``, or relative to it).

    Raises ``FileNotFoundError`` when it does not exist (and ``flags`` do not
    create it) and ``OSError`` for a link on the way; ``NotAPlainFile`` for
    anything but a plain file with a single name.
    """
    *folders, name = _parts(root, path)
    parent = open_folder(root, folders)
    try:
        fd = os.open(name, flags | _FILE_FLAGS, mode, dir_fd=parent)
    finally:
        os.close(parent)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise NotAPlainFile(errno.EPERM, "not a plain file of the run", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(root: Path, path: PurePath | str) -> bytes:
    fd = open_beneath(root, path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def append_text(root: Path, path: PurePath | str, text: str) -> None:
    """Append to a file, creating it (and not its folder) when missing."""
    fd = open_beneath(root, path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(fd, "ab") as f:
        f.write(text.encode())


def append_bytes(root: Path, path: PurePath | str, data: bytes) -> None:
    """Append bytes to a file, creating it (and not its folder) when missing."""
    fd = open_beneath(root, path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(fd, "ab") as f:
        f.write(data)


def files(root: Path, folder: PurePath | str) -> Iterator[tuple[str, int | None]]:
    """Every entry under ``folder`` that is not a folder, as (its path relative to
    ``folder``, a descriptor open for reading), depth first.

    Links, FIFOs, devices and files with several names come with None instead of
    a descriptor and are not entered. Each descriptor is closed when the walk
    moves on. A missing folder yields nothing.
    """
    try:
        top = open_folder(root, _parts(root, folder))
    except FileNotFoundError:
        return
    try:
        yield from _walk(top, "")
    finally:
        os.close(top)


def _walk(folder_fd: int, prefix: str) -> Iterator[tuple[str, int | None]]:
    with os.scandir(folder_fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        rel = prefix + entry.name
        try:
            info = os.stat(entry.name, dir_fd=folder_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed while we walked
        if stat.S_ISDIR(info.st_mode):
            try:
                below = os.open(entry.name, _DIR_FLAGS, dir_fd=folder_fd)
            except OSError:
                yield rel, None  # replaced by a link meanwhile
                continue
            try:
                yield from _walk(below, rel + "/")
            finally:
                os.close(below)
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            yield rel, None
            continue
        try:
            fd = os.open(entry.name, os.O_RDONLY | _FILE_FLAGS, dir_fd=folder_fd)
        except FileNotFoundError:
            continue
        except OSError:
            yield rel, None
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                yield rel, None  # replaced between the look and the open
                continue
            os.set_blocking(fd, True)
            yield rel, fd
        finally:
            os.close(fd)
