"""The generated log of bench/log_page.py: numbered, realistic lines (85 to 125
bytes) written in big blocks, to a file or to stdout, and the check that a page
read from it holds exactly the lines expected."""

from __future__ import annotations

import sys
from pathlib import Path

from trainjobs.executors import logfiles

MIB = 1 << 20
BLOCK_LINES = 100_000  # about 10 MiB a write

PAD = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
LINE = b"%010d 2024-05-01T%02d:%02d:%02d.%03dZ INFO trainer: epoch=%d step=%d loss=0.%04d %s\n"


def line(n: int) -> bytes:
    """Line ``n`` (1-based) of the generated log: deterministic, 85 to 125 bytes."""
    s = n // 1000
    return LINE % (
        n,
        s // 3600 % 24,
        s // 60 % 60,
        s % 60,
        n % 1000,
        n // 100_000,
        n,
        n * 7919 % 10_000,
        PAD[: n * 31 % 41],
    )


def block(first: int, count: int) -> bytes:
    return b"".join([line(n) for n in range(first, first + count)])


def expected(first: int, last: int) -> str:
    return block(first, last - first + 1).decode() if first <= last else ""


def write_log(path: Path, size_bytes: int, first: int = 1) -> int:
    """Append lines from ``first`` until ``size_bytes`` more are written; the next line number."""
    n = first
    written = 0
    with open(path, "ab") as f:
        while written < size_bytes:
            data = block(n, BLOCK_LINES)
            if written + len(data) > size_bytes:  # finish on the size, at a line's end
                cut = data.rfind(b"\n", 0, size_bytes - written) + 1
                data = data[:cut] if cut else data[: data.index(b"\n") + 1]
            f.write(data)
            written += len(data)
            n += data.count(b"\n")
    return n


def emit(size_bytes: int) -> None:
    """The boot file's work in (e): the log on stdout, as fast as it goes."""
    out = sys.stdout.buffer
    n = 1
    written = 0
    while written < size_bytes:
        data = block(n, BLOCK_LINES)
        out.write(data)
        written += len(data)
        n += BLOCK_LINES
    out.flush()


def check(window: logfiles.Window, first: int, last: int, offset: int = 0) -> None:
    """The page holds exactly lines first..last; file line L is generated line L - offset."""
    if (window.start_line, window.end_line) != (first, last):
        raise AssertionError(f"page {window.start_line}-{window.end_line}, wanted {first}-{last}")
    want = expected(first - offset, last - offset)
    if window.text != want:
        raise AssertionError(f"page {first}-{last}: text differs from the generated lines")
