"""Serving without a sandbox: refused unless told, reported loudly when told, and the
CLI flag that tells it names the danger."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from conftest import TRAINJOBS, Server
from sandbox_scripts import needs_bwrap

pytestmark = needs_bwrap


def test_serve_without_a_sandbox_refuses_to_start_unless_told(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    env.pop("TRAINJOBS_NO_SANDBOX", None)
    # A machine without bwrap: nothing on PATH has it.
    done = subprocess.run(
        [*TRAINJOBS, "serve", "--port", "1", "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no sandbox for runs" in done.stderr and "apt-get install bubblewrap" in done.stderr
    assert "--no-sandbox" in done.stderr


def test_no_sandbox_is_reported_loudly(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={"TRAINJOBS_NO_SANDBOX": "1"}).start()
    try:
        assert httpx.get(f"{srv.base}/health").json() == {"status": "ok", "sandbox": False}
        banner = (srv.data_dir.parent / f"serve-{srv.port}.log").read_text()
        assert "sandbox: OFF" in banner
        # Even without a sandbox, a run's environment is built from the allow-list.
        created = srv.create_job("import os\nprint(sorted(os.environ))\n")
        version = srv.wait_status(created["job_id"], created["version_id"])
        assert version["status"] == 10
        assert "TRAINJOBS_NO_SANDBOX" not in srv.log_text(0, created["version_id"])
    finally:
        srv.stop()
        srv.drop()


def test_cli_serve_flag_names_the_danger() -> None:
    done = subprocess.run([*TRAINJOBS, "serve", "--help"], capture_output=True, text=True)
    assert "--no-sandbox" in done.stdout and "DANGEROUS" in done.stdout
