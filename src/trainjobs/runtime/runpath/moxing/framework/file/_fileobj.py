"""``mox.file.File``: one file object for local paths and object paths.

An object is read whole when the file opens and written whole when it
closes (S3 has no partial writes); ``a`` modes start from the object's
current content. Text modes decode and encode UTF-8 unless told otherwise.
"""

from __future__ import annotations

import io
from typing import IO, Any

from . import _local, _remote


class _ObjectBuffer(io.BytesIO):
    """The bytes of one object; written back when closed, if it was opened to write
    (flushing writes nothing: an object is written whole, once)."""

    def __init__(self, url: _remote.Url, writable: bool, initial: bytes = b"") -> None:
        super().__init__(initial)
        self._url = url
        self._write_back = writable

    def close(self) -> None:
        if not self.closed and self._write_back:
            _remote.put_bytes(self._url, self.getvalue())
            self._write_back = False
        super().close()


def _open_object(path: str, mode: str, encoding: str | None, newline: str | None) -> IO[Any]:
    url = _remote.parse(path)
    kind = mode.replace("b", "").replace("t", "").replace("+", "")
    if kind not in ("r", "w", "a", "x"):
        raise ValueError(f"invalid mode: {mode!r}")
    if not url.key or url.key.endswith("/"):
        raise IsADirectoryError(21, f"Is a directory: {path}")
    initial = b""
    if kind == "r" or kind == "a":
        meta = _remote.head(url)
        if meta is None and kind == "r":
            if _remote.is_dir(url):
                raise IsADirectoryError(21, f"Is a directory: {path}")
            raise FileNotFoundError(2, f"No such file or directory: {path}")
        if meta is not None:
            initial = _remote.get_bytes(url)
    if kind == "x" and _remote.is_file(url):
        raise FileExistsError(17, f"File exists: {path}")
    buffer = _ObjectBuffer(url, writable=kind != "r" or "+" in mode, initial=initial)
    if kind == "a":
        buffer.seek(0, io.SEEK_END)
    if kind == "r" and "+" not in mode:
        buffer._write_back = False
    if "b" in mode:
        return buffer
    return io.TextIOWrapper(buffer, encoding=encoding or "utf-8", newline=newline)


class File:
    """A file object over a local path, ``obs://bucket/key`` or ``s3://bucket/key``.

    ``File(url, 'r')`` reads text, ``'rb'`` bytes; ``'w'``, ``'a'`` and their
    ``b`` forms write. It is an iterator over lines and a context manager.
    """

    def __init__(
        self,
        name: str,
        mode: str = "r",
        encoding: str | None = None,
        newline: str | None = None,
    ) -> None:
        self.name = name
        self.mode = mode
        if _remote.is_remote(name):
            self._f: IO[Any] = _open_object(name, mode, encoding, newline)
        else:
            if "b" in mode:
                self._f = _local.open_(name, mode)
            else:
                self._f = _local.open_(name, mode, encoding=encoding, newline=newline)

    def read(self, n: int = -1) -> Any:
        return self._f.read(n)

    def readline(self, limit: int = -1) -> Any:
        return self._f.readline(limit)

    def readlines(self, hint: int = -1) -> list[Any]:
        return self._f.readlines(hint)

    def write(self, data: Any) -> int:
        return self._f.write(data)

    def writelines(self, lines: Any) -> None:
        self._f.writelines(lines)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    @property
    def closed(self) -> bool:
        return self._f.closed

    def readable(self) -> bool:
        return self._f.readable()

    def writable(self) -> bool:
        return "r" not in self.mode or "+" in self.mode

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        """The file's length in bytes, as it stands now."""
        self._f.flush()
        raw = self._f.buffer if isinstance(self._f, io.TextIOWrapper) else self._f
        if isinstance(raw, _ObjectBuffer):
            return len(raw.getvalue())
        return _local.stat(raw.fileno()).st_size

    def next(self) -> Any:
        return next(self._f)

    def __next__(self) -> Any:
        return next(self._f)

    def __iter__(self) -> File:
        return self

    def __enter__(self) -> File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # Anything else a file object has (fileno, truncate, buffer...).
        return getattr(self._f, name)
