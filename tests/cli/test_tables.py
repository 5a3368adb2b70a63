"""Tables stay readable in an 80-column terminal: key columns whole, the least
important left out first, and the caption says what was left out."""

from __future__ import annotations

from rich.console import Console

from trainjobs.cli.tables import Column, fitted

COLUMNS = [
    Column("version_id"),
    Column("name"),
    Column("status"),
    Column("parameters", drop=1, wrap=True),
    Column("accuracy", drop=2),
    Column("created", drop=5),
]


def render(width: int, rows: list[list[str]]) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(fitted(console, COLUMNS, rows))
    return console.export_text()


def test_everything_shows_when_it_fits() -> None:
    text = render(120, [["12", "V0012", "COMPLETED", "lr=0.1", "0.9500", "2026-11-30 01:02:03"]])
    assert "2026-11-30 01:02:03" in text and "left out" not in text
    assert max(len(line) for line in text.splitlines()) <= 120


def test_at_80_columns_the_optional_go_first_and_key_columns_stay_whole() -> None:
    params = "learning_rate=0.001 batch_size=128 epochs=30 optimizer=adamw"
    rows = [["123456", "V0123", "COMPLETED", params, "0.9512", "2026-11-30 01:02:03"]]
    text = render(80, rows)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "left out to fit 80 columns: created" in text
    row = next(line for line in lines if "123456" in line)
    assert "V0123" in row and "COMPLETED" in row and "0.9512" in row
    # The free text wraps onto further lines instead of pushing key columns out.
    body = "".join(line.split("│")[4] for line in lines if line.count("│") > 4)
    assert "".join(body.split()) == "".join(params.split())


def test_a_narrow_terminal_drops_all_but_the_key_columns() -> None:
    rows = [["7", "V0007", "RUNNING", "a=1", "", "2026-11-30 01:02:03"]]
    text = render(40, rows)
    assert "7" in text and "V0007" in text and "RUNNING" in text
    assert "left out to fit 40 columns:" in text and "created" in text
