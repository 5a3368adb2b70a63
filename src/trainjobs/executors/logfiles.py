"""Reading log files by line number without reading them whole.

A sparse index records, for every 64 KiB chunk of a file, how many newlines
come before its end. Finding line ``n`` is a binary search in that index and
a read of one chunk; the index grows with the file (only new chunks are
scanned) and is kept beside it as ``<file>.idx`` so a restart does not rescan.
"""

from __future__ import annotations

import bisect
import os
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from trainjobs import nofollow

CHUNK_BYTES = 64 << 10  # a page read scans at most one chunk; 1 GiB needs a 128 KiB index
MAX_PAGE_BYTES = 8 << 20  # a page of absurdly long lines is cut here
INDEX_SUFFIX = ".idx"


@dataclass(frozen=True)
class Window:
    start_line: int  # 1-based; 0 when the window is empty
    end_line: int
    text: str

    @property
    def count(self) -> int:
        return self.end_line - self.start_line + 1 if self.start_line else 0


class LineIndex:
    """The index of one log file in a run's folder ``root``: the file and its index
    are opened without following links (the run writes there too)."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self.index_path = path.with_name(path.name + INDEX_SUFFIX)
        self._counts = array("Q")  # newlines in the file up to the end of chunk i
        self._lock = threading.Lock()
        self._load()

    def _open(self) -> BinaryIO:
        return os.fdopen(nofollow.open_beneath(self.root, self.path, os.O_RDONLY), "rb")

    def _load(self) -> None:
        try:
            raw = nofollow.read_bytes(self.root, self.index_path)
        except OSError:
            return
        counts = array("Q")
        counts.frombytes(raw[: len(raw) - len(raw) % counts.itemsize])
        self._counts = counts

    def _refresh(self, fd: BinaryIO, size: int) -> None:
        full_chunks = size // CHUNK_BYTES
        if len(self._counts) > full_chunks:  # the file was truncated or replaced
            self._counts = array("Q")
        start = len(self._counts)
        if start == full_chunks:
            return
        fd.seek(start * CHUNK_BYTES)
        total = self._counts[-1] if self._counts else 0
        added = array("Q")
        for _ in range(start, full_chunks):
            total += fd.read(CHUNK_BYTES).count(b"\n")
            added.append(total)
        self._counts.extend(added)
        try:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            with os.fdopen(nofollow.open_beneath(self.root, self.index_path, flags), "ab") as out:
                if out.tell() != start * added.itemsize:
                    out.truncate(0)
                    self._counts.tofile(out)
                else:
                    added.tofile(out)
        except OSError:
            pass  # the index is a cache; reads stay correct without it

    def _line_count(self, fd: BinaryIO, size: int) -> int:
        """Lines in the file; a last line without its newline yet counts."""
        if size == 0:
            return 0
        base = len(self._counts) * CHUNK_BYTES
        fd.seek(base)
        newlines = (self._counts[-1] if self._counts else 0) + fd.read(size - base).count(b"\n")
        fd.seek(size - 1)
        return newlines + (0 if fd.read(1) == b"\n" else 1)

    def _offset_of(self, fd: BinaryIO, line: int) -> int:
        """Byte offset where 1-based ``line`` starts."""
        before = line - 1  # newlines that precede the line
        if before == 0:
            return 0
        chunk = bisect.bisect_left(self._counts, before)
        seen = self._counts[chunk - 1] if chunk > 0 else 0
        pos = chunk * CHUNK_BYTES
        fd.seek(pos)
        while True:
            block = fd.read(CHUNK_BYTES)
            if not block:
                return pos
            n = block.count(b"\n")
            if seen + n >= before:
                idx = -1
                for _ in range(before - seen):
                    idx = block.index(b"\n", idx + 1)
                return pos + idx + 1
            seen += n
            pos += len(block)

    def read(self, first: int, last: int) -> tuple[int, str, int]:
        """Lines ``first``..``last`` (1-based, inclusive): the file's line count, the
        text, and how many lines it holds (fewer when a page is cut at MAX_PAGE_BYTES)."""
        with self._lock, self._open() as fd:
            size = os.fstat(fd.fileno()).st_size
            self._refresh(fd, size)
            total = self._line_count(fd, size)
            text, count = self._read_locked(fd, size, total, first, last)
            return total, text, count

    def _read_locked(
        self, fd: BinaryIO, size: int, total: int, first: int, last: int
    ) -> tuple[str, int]:
        last = min(last, total)
        if first > last or first < 1:
            return "", 0
        fd.seek(self._offset_of(fd, first))
        wanted = last - first + 1
        parts: list[bytes] = []
        read = 0
        count = 0
        while count < wanted and read < MAX_PAGE_BYTES:
            line = fd.readline(MAX_PAGE_BYTES - read)
            if not line:
                break
            parts.append(line)
            read += len(line)
            if line.endswith(b"\n") or fd.tell() == size:
                count += 1
        if len(parts) > count:
            # The byte cap cut a line: the next page starts on it, unless it is
            # the only one, which is then returned cut short.
            if count:
                parts.pop()
            else:
                count = 1
        return b"".join(parts).decode("utf-8", errors="replace"), count

    def line_count(self) -> int:
        with self._lock, self._open() as fd:
            size = os.fstat(fd.fileno()).st_size
            self._refresh(fd, size)
            return self._line_count(fd, size)

    def read_last(self, lines: int) -> tuple[int, str, int, int]:
        """The last ``lines`` lines: (line count, text, lines held, first line number)."""
        with self._lock, self._open() as fd:
            size = os.fstat(fd.fileno()).st_size
            self._refresh(fd, size)
            total = self._line_count(fd, size)
            first = max(1, total - lines + 1)
            text, count = self._read_locked(fd, size, total, first, total)
            return total, text, count, first


_CACHE: OrderedDict[Path, LineIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 256


def index_for(path: Path, root: Path) -> LineIndex:
    with _CACHE_LOCK:
        found = _CACHE.get(path)
        if found is None or found.root != root:
            found = LineIndex(path, root)
            _CACHE[path] = found
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        else:
            _CACHE.move_to_end(path)
        return found


def forget(paths: list[Path]) -> None:
    with _CACHE_LOCK:
        for p in paths:
            _CACHE.pop(p, None)


def window(
    path: Path, lines: int, base_line: int | None, descending: bool, root: Path
) -> tuple[Window, int]:
    """The page a log reader asked for, and the file's line count.

    ``base_line`` None: the last ``lines`` lines. Otherwise the ``lines`` lines
    after it (``descending``) or before it; the base line itself is never included.
    ``root`` is the run's folder: a log that is missing, or that the run
    replaced with a link (or anything but a plain file), reads as empty.
    """
    try:
        return _window(index_for(path, root), lines, base_line, descending)
    except OSError:
        return Window(0, 0, ""), 0


def _window(
    idx: LineIndex, lines: int, base_line: int | None, descending: bool
) -> tuple[Window, int]:
    if lines == 0:
        total = idx.line_count()
        return Window(0, 0, ""), total
    if base_line is None:
        total, text, count, first = idx.read_last(lines)
        if count == 0:
            return Window(0, 0, ""), total
        return Window(first, first + count - 1, text), total
    if descending:
        first, last = base_line + 1, base_line + lines
    else:
        first, last = max(1, base_line - lines), base_line - 1
    total, text, count = idx.read(first, last)
    if count == 0:
        return Window(0, 0, ""), total
    return Window(first, first + count - 1, text), total
