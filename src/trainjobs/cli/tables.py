"""Tables that fit the terminal: key columns stay whole on one line, the others
wrap, and when even that does not fit, the least important columns are left
out (the caption says which, and ``--json`` still has everything)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

WRAP_MIN = 8  # a wrapping column is never squeezed narrower than this
EDGE = 4  # the borders and padding rich puts around a boxed table


@dataclass(frozen=True)
class Column:
    header: str
    drop: int = 0  # 0: a key column, never left out; higher numbers go first
    wrap: bool = False  # may wrap onto several lines (free text); key columns do not


def _cell_width(cell: str) -> int:
    return max((cell_len(line) for line in Text.from_markup(cell).plain.splitlines()), default=0)


def _natural(column: Column, cells: Sequence[str]) -> int:
    return max([cell_len(column.header), *(_cell_width(c) for c in cells)])


def _needed(columns: Sequence[Column], widths: Sequence[int]) -> int:
    # Each column costs its content plus one space of padding either side and
    # a border; a wrapping column may shrink to WRAP_MIN.
    return EDGE + sum(
        (min(w, WRAP_MIN) if c.wrap else w) + 3 for c, w in zip(columns, widths, strict=True)
    )


def fitted(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> Table:
    """A table of ``rows`` (rich markup cells) that fits ``console``'s width."""
    kept = list(range(len(columns)))
    widths = [_natural(c, [r[i] for r in rows]) for i, c in enumerate(columns)]
    while _needed([columns[i] for i in kept], [widths[i] for i in kept]) > console.width:
        droppable = [i for i in kept if columns[i].drop]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    left_out = [columns[i].header for i in range(len(columns)) if i not in kept]
    caption = (
        f"left out to fit {console.width} columns: {', '.join(left_out)}" if left_out else None
    )
    table = Table(caption=caption, caption_justify="left")
    for i in kept:
        c = columns[i]
        table.add_column(
            c.header,
            no_wrap=not c.wrap,
            overflow="fold",
            min_width=None if c.wrap else widths[i],
        )
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table
