"""Every command's --help is complete: its summary, every argument and option with a help
text, and (for the API commands) the exit codes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from trainjobs.cli.main import app

ROOT = typer.main.get_command(app)
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}
API_COMMANDS = {"jobs", "versions", "logs", "specs", "engines"}


# typer ships its own click, so commands are told apart by what they have.
def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(group, "commands", {}).items():
        found += commands(sub, (*path, name))
    return found


def resolve(path: tuple[str, ...]) -> Any:
    command = ROOT
    for name in path:
        command = command.commands[name]
    return command


def flat(text: str) -> str:
    """Help text without the boxes and line wrapping of rich's layout."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


ALL = commands(ROOT)


def test_every_command_of_the_issue_exists() -> None:
    expected = {
        ("jobs", "create"), ("jobs", "list"), ("jobs", "show"), ("jobs", "describe"),
        ("jobs", "delete"), ("versions", "create"), ("versions", "list"), ("versions", "show"),
        ("versions", "stop"), ("versions", "delete"), ("logs",), ("specs",), ("engines",),
        ("obs", "cp"), ("obs", "ls"), ("obs", "rm"), ("serve",),
    }  # fmt: skip
    assert expected <= set(ALL)


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "trainjobs")
def test_help_is_complete(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    command = resolve(path)
    summary = (command.help or "").strip().splitlines()[0]
    assert summary and flat(summary) in text
    if hasattr(command, "commands"):
        for name in command.commands:
            assert name in text
        return
    for param in command.params:
        if param.name == "help":
            continue
        helptext = getattr(param, "help", None)
        assert helptext, f"{' '.join(path)}: {param.name} has no help"
        if param.param_type_name == "option":
            for opt in param.opts:
                assert opt in text, (path, opt)
        else:
            assert str(param.metavar or param.name).upper() in text.upper(), (path, param.name)
        assert flat(helptext)[:40] in text, (path, param.name)
    if path and path[0] in API_COMMANDS:
        assert "Exit codes: 0 success" in text
        for opt in ("--endpoint", "--token", "--project-id", "--data-dir"):
            assert opt in text
        assert "--json" in text


def _flags(path: tuple[str, ...]) -> list[str]:
    command = resolve(path)
    return [
        opt
        for param in getattr(command, "params", [])
        if getattr(param, "is_flag", False)
        for opt in param.opts
        if opt.startswith("--")
    ]


FLAGGED = [p for p in ALL if _flags(p)]


@pytest.mark.parametrize("path", FLAGGED, ids=lambda p: " ".join(p) or "trainjobs")
def test_flags_show_as_flags(path: tuple[str, ...]) -> None:
    """A flag takes no value, so its help line shows none (no BOOLEAN, no <bool>)."""
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    for flag in _flags(path):
        line = next(
            (ln for ln in result.stdout.splitlines() if re.search(rf"{flag}(\s|$)", ln)), None
        )
        assert line is not None, (path, flag)
        assert not re.search(r"<bool>|BOOLEAN", line, re.IGNORECASE), line


def test_help_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer import rich_utils

    # typer reads TERMINAL_WIDTH once, when it first renders (WIDE, in other tests).
    monkeypatch.setattr(rich_utils, "MAX_WIDTH", None)
    result = CliRunner().invoke(
        app, ["versions", "create", "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"}
    )
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
