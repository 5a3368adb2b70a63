"""The two walkthroughs in examples/ run from start to end against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

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


def accuracies(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"\b(0\.\d{4})\b", text)]


def test_cli_walkthrough(server: Server, tmp_path: Path) -> None:
    bucket = f"walk-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        ["bash", str(EXAMPLES / "walkthrough_cli.sh"), bucket],
        env=user_env(server),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(r"V0001 COMPLETED in", done.stderr) and "V0002 COMPLETED in" in done.stderr
    compared = done.stdout.split("== 5.")[1]
    assert "C=1.0 max_iter=300" in compared and "C=0.01 max_iter=300" in compared
    assert "2 of 2 version(s)" in compared
    saved = re.search(r"model saved to (\S+)", done.stdout)
    assert saved and Path(saved.group(1)).stat().st_size > 0


def test_sdk_walkthrough(server: Server, tmp_path: Path) -> None:
    bucket = f"walk-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "walkthrough_sdk.py"), bucket],
        env=user_env(server),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "V0001 COMPLETED in" in out and "V0002 COMPLETED in" in out
    lines = re.findall(r"^(V000\d)\s+C=(\S+)\s+accuracy=(\S+)$", out, re.MULTILINE)
    assert {(v, c) for v, c, _ in lines} == {("V0002", "0.01"), ("V0001", "1.0")}
    assert all(0.5 < float(acc) <= 1.0 for _, _, acc in lines)
    saved = re.search(r"model saved to (\S+)", out)
    assert saved and Path(saved.group(1)).stat().st_size > 0
