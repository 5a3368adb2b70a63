"""How the CLI finds the service, and what it says when it cannot: a message, a hint and an
exit code, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cli.conftest import Cli
from conftest import Server, free_port

COMMANDS = [
    ("jobs", "list"),
    ("jobs", "show", "1"),
    ("versions", "list", "1"),
    ("logs", "1", "1"),
    ("specs",),
    ("engines",),
]


def test_explicit_options_and_environment_variables(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    nowhere = {"TRAINJOBS_DATA_DIR": str(tmp_path)}  # no credentials.json there
    options = ("--endpoint", server.base, "--token", server.token, "--project-id",
               server.project_id)  # fmt: skip
    assert cli.json("specs", *options)["is_success"] is True
    cli("specs", *options, env=nowhere)
    env = {
        **nowhere,
        "TRAINJOBS_ENDPOINT": server.base,
        "TRAINJOBS_TOKEN": server.token,
        "TRAINJOBS_PROJECT_ID": server.project_id,
    }
    assert "engine_id" in cli("engines", env=env).stdout
    assert cli("jobs", "list", "--data-dir", str(server.data_dir), env=nowhere).exit_code == 0


def test_bad_token_exits_1_with_the_code_and_a_hint(cli: Cli) -> None:
    for args in COMMANDS:
        result = cli(*args, "--token", "wrong", code=1)
        assert "HTTP 401, ModelArts.0203" in result.stderr, args
        assert "hint: check --token" in result.stderr


def test_other_project_exits_1(cli: Cli) -> None:
    result = cli("jobs", "list", "--project-id", "f" * 32, code=1)
    assert "HTTP 403, ModelArts.0210" in result.stderr and "--project-id" in result.stderr


def test_server_down_exits_3_with_a_clear_message(cli: Cli) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    for args in [*COMMANDS, ("jobs", "create", "x", "--code-dir", "/b/c/", "--boot-file", "t.py")]:
        result = cli(*args, "--endpoint", endpoint, code=3)
        # The message wraps at the terminal's 80 columns.
        assert (
            f"cannot reach the trainjobs service at {endpoint}: is `trainjobs serve` running?"
            in " ".join(result.stderr.split())
        ), args
        assert result.stdout == ""


def test_no_credentials_exits_3_and_says_where_it_looked(cli: Cli, tmp_path: Path) -> None:
    result = cli("jobs", "list", env={"TRAINJOBS_DATA_DIR": str(tmp_path)}, code=3)
    assert "no token and no project id found" in result.stderr
    assert str(tmp_path.resolve() / "credentials.json") in result.stderr
    assert "trainjobs serve" in result.stderr


def test_installed_command_in_a_real_shell(server: Server, tmp_path: Path) -> None:
    """The console entry point as a user runs it: exit codes and streams, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    env["TRAINJOBS_DATA_DIR"] = str(server.data_dir)
    trainjobs = [sys.executable, "-m", "trainjobs"]
    ok = subprocess.run([*trainjobs, "specs", "--json"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["is_success"] is True
    env["TRAINJOBS_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    down = subprocess.run([*trainjobs, "jobs", "list"], env=env, capture_output=True, text=True)
    assert down.returncode == 3 and "Traceback" not in down.stderr
    assert "is `trainjobs serve` running?" in down.stderr
