"""The two walkthroughs in examples/ run from start to end against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, Server

EXAMPLES = ROOT / "examples"


def user_env(server: Server) -> dict[str, str]:
    """A user's shell: the venv's commands on PATH, the server found through its data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHON"] = sys.executable
    env["TRAINJOBS_DATA_DIR"] = str(server.data_dir)
    env["COLUMNS"] = "200"
    return env


# Two real trainings and a dozen CLI starts: minutes on a busy 2-core machine.
# The deadline fails with the walkthrough's output before pytest's own timeout.
WALK_DEADLINE_S = 330


def walk(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=WALK_DEADLINE_S
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        err = exc.stderr if isinstance(exc.stderr, str) else (exc.stderr or b"").decode()
        raise AssertionError(
            f"the walkthrough did not finish in {WALK_DEADLINE_S} s; it got to:\n{out[-2000:]}\n{err[-2000:]}"
        ) from None


def accuracies(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"\b(0\.\d{4})\b", text)]


@pytest.mark.timeout(WALK_DEADLINE_S + 60)
def test_cli_walkthrough(fresh_server: Server, tmp_path: Path) -> None:
    # A server of its own: the walkthrough lists the project as a new user sees it.
    server = fresh_server
    bucket = f"walk-{uuid.uuid4().hex[:8]}"
    done = walk(["bash", str(EXAMPLES / "walkthrough_cli.sh"), bucket], user_env(server), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(r"V0001 COMPLETED in", done.stderr) and "V0002 COMPLETED in" in done.stderr
    compared = done.stdout.split("== 5.")[1]
    # The parameters column may wrap between its values when the table is tight.
    assert "C=1.0" in compared and "C=0.01" in compared and "max_iter=300" in compared, compared
    assert "2 of 2 version(s)" in compared
    saved = re.search(r"model saved to (\S+)", done.stdout)
    assert saved and Path(saved.group(1)).stat().st_size > 0


@pytest.mark.timeout(WALK_DEADLINE_S + 60)
def test_sdk_walkthrough(fresh_server: Server, tmp_path: Path) -> None:
    server = fresh_server  # as for the CLI's: the project as a new user sees it
    bucket = f"walk-{uuid.uuid4().hex[:8]}"
    done = walk(
        [sys.executable, str(EXAMPLES / "walkthrough_sdk.py"), bucket], user_env(server), tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "V0001 COMPLETED in" in out and "V0002 COMPLETED in" in out
    lines = re.findall(r"^(V000\d)\s+C=(\S+)\s+accuracy=(\S+)$", out, re.MULTILINE)
    assert {(v, c) for v, c, _ in lines} == {("V0002", "0.01"), ("V0001", "1.0")}
    assert all(0.5 < float(acc) <= 1.0 for _, _, acc in lines)
    saved = re.search(r"model saved to (\S+)", out)
    assert saved and Path(saved.group(1)).stat().st_size > 0
