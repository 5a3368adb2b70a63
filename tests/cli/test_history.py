"""`versions show` says why a run failed and what code it ran; `versions rerun` and
`versions diff`; Ctrl-C while waiting leaves the run going and says how to stop it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.conftest import Cli
from conftest import Server, unique_name

FAILING = "import sys\nprint('about to fail', flush=True)\nsys.exit(3)\n"
INTERRUPT_WAIT_S = 60


def _cli_env(server: Server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    env["TRAINJOBS_DATA_DIR"] = str(server.data_dir)
    env["PYTHONFAULTHANDLER"] = "1"  # a CLI that hangs shows where, when told to abort
    return env


def _ended_after_ctrl_c(proc: subprocess.Popen[str], what: str) -> str:
    """Its stderr once it ended; a failure with every thread's stack if it hangs."""
    try:
        return proc.communicate(timeout=INTERRUPT_WAIT_S)[1]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        _out, err = proc.communicate()
        pytest.fail(f"{what}: the CLI did not end after Ctrl-C; its stacks:\n{err}")


def test_show_has_failure_reason_and_code_digest(cli: Cli, server: Server) -> None:
    created = server.create_job(FAILING)
    job, version = str(created["job_id"]), str(created["version_id"])
    server.wait_status(created["job_id"], created["version_id"])
    shown = cli("versions", "show", job, version).stdout
    flat = " ".join(shown.split())
    assert "failure_reason worker 0 exited with code 3" in flat
    digest = server.version(created["job_id"], created["version_id"])["code_digest"]
    assert len(digest) == 64 and f"code_digest{digest}" in "".join(shown.split())


def test_rerun_and_diff_from_the_cli(cli: Cli, server: Server, tmp_path: Path) -> None:
    bucket = f"hist-{unique_name()}"
    for text in ("A = 1\n", "A = 2\n"):
        folder = tmp_path / text[-2]
        folder.mkdir()
        (folder / "train.py").write_text(f"{text}print('A is', A)\n")
        server.upload(folder, f"/{bucket}/app")
        if text == "A = 1\n":
            created = cli.json(
                "jobs", "create", unique_name(), "--code-dir", f"/{bucket}/app/",
                "--boot-file", "train.py", "--param", "lr=0.1", "--wait", "--poll-interval", "0.1",
            )  # fmt: skip
            job, first = str(created["job_id"]), str(created["version_id"])
    second = cli.json("versions", "create", job, "--param", "lr=0.2", "--wait")["version_id"]
    rerun = cli.json("versions", "rerun", job, first, "--wait", "--poll-interval", "0.1")
    assert "A is 1" in server.log_text(int(job), rerun["version_id"])

    found = cli.json("versions", "diff", job, first, str(second))
    assert found["parameters"] == [{"name": "lr", "a": "0.1", "b": "0.2"}]
    assert [f["path"] for f in found["code"]] == ["train.py"]
    text = cli("versions", "diff", job, first, str(second)).stdout
    assert "lr" in text and "0.1" in text and "0.2" in text
    assert "-A = 1" in text and "+A = 2" in text
    same = cli("versions", "diff", job, first, str(rerun["version_id"])).stdout
    assert "code: the same" in same


def test_ctrl_c_while_waiting_leaves_the_run_going(server: Server) -> None:
    created = server.create_job("import time\nprint('holding', flush=True)\ntime.sleep(600)\n")
    job, version = created["job_id"], created["version_id"]
    env = _cli_env(server)
    server.wait_status(job, version, {8}, timeout_s=120)
    # `--wait` on a new version of the job, interrupted once it shows a status.
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainjobs", "versions", "create", str(job), "--wait",
         "--poll-interval", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()  # "created version V0002 (ID) ..."
    assert line.startswith("created version"), line
    new_id = int(line.split("(")[1].split(")")[0])
    server.wait_status(job, new_id, {8}, timeout_s=120)
    status = proc.stderr.readline()  # the live status line: it is waiting now
    assert "V0002" in status, status
    proc.send_signal(signal.SIGINT)
    err = _ended_after_ctrl_c(proc, "versions create --wait")
    assert proc.returncode == 130, err
    flat = " ".join(err.split())
    assert f"version {new_id} of job {job} goes on running" in flat
    assert f"trainjobs versions stop {job} {new_id}" in flat
    assert server.version(job, new_id)["status"] == 8  # the run goes on
    for vid in (version, new_id):
        server.client.post(f"{server.v1}/training-jobs/{job}/versions/{vid}/stop")


def test_ctrl_c_at_any_moment_of_following_a_log_ends_it(server: Server) -> None:
    # Polling as fast as it can, the CLI spends most of its time inside requests:
    # an interrupt landing there must still end it, promptly, every time.
    created = server.create_job("import time\nprint('holding', flush=True)\ntime.sleep(600)\n")
    job, version = created["job_id"], created["version_id"]
    env = _cli_env(server)
    server.wait_status(job, version, {8}, timeout_s=120)
    deadline = time.monotonic() + 60
    while "holding" not in server.log_text(job, version):
        assert time.monotonic() < deadline, "the run never printed its first line"
        time.sleep(0.05)
    delays = random.Random(7)
    try:
        for attempt in range(8):
            proc = subprocess.Popen(
                [sys.executable, "-m", "trainjobs", "logs", str(job), str(version), "--follow",
                 "--poll-interval", "0.05"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert proc.stdout is not None
            while "holding" not in (line := proc.stdout.readline()):  # it follows now
                assert line, "the log ended before its 'holding' line"
            time.sleep(delays.uniform(0, 0.1))
            proc.send_signal(signal.SIGINT)
            _ended_after_ctrl_c(proc, f"logs --follow, attempt {attempt}")
            assert proc.returncode != 0
        assert server.version(job, version)["status"] == 8  # the run goes on
    finally:
        server.client.post(f"{server.v1}/training-jobs/{job}/versions/{version}/stop")
