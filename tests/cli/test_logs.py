"""``trainjobs logs``: the whole log, one file, the tail, and following a run to its end."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cli.conftest import Cli
from conftest import Server, unique_name

MANY = "for i in range(1, 1201):\n    print(f'line {i}')\n"
TICKS = (
    "import time, sys\nfor i in range(1, 6):\n    print(f'tick {i}', flush=True)\n"
    "    time.sleep(0.3)\nsys.exit(int(sys.argv[-1].split('=')[-1]) if '--code' in "
    "sys.argv[-1] else 0)\n"
)


def create(cli: Cli, server: Server, source: str, *extra: str) -> dict[str, Any]:
    code_dir, _boot = server.upload_script(source)
    created: dict[str, Any] = cli.json(
        "jobs", "create", unique_name(), "--code-dir", code_dir, "--boot-file", "train.py", *extra
    )
    return created


@pytest.fixture(scope="module")
def many(server: Server) -> dict[str, Any]:
    """A finished run that printed 'line 1'..'line 1200' (more than two pages)."""
    created = server.create_job(MANY)
    server.wait_status(created["job_id"], created["version_id"])
    return created


def test_logs_prints_the_whole_log_in_order(cli: Cli, many: dict[str, Any]) -> None:
    out = cli("logs", str(many["job_id"]), str(many["version_id"])).stdout
    lines = [line for line in out.splitlines() if line.startswith("line ")]
    assert lines == [f"line {i}" for i in range(1, 1201)]


def test_list_files_and_pick_one(cli: Cli, many: dict[str, Any]) -> None:
    ids = (str(many["job_id"]), str(many["version_id"]))
    name = f"{many['job_name']}-V0001.0"
    assert cli("logs", *ids, "--list").stdout.split() == [name]
    assert cli("logs", *ids, "--list", "--json").stdout.strip().startswith("{")
    assert json.loads(cli("logs", *ids, "--list", "--json").stdout) == {
        "is_success": True,
        "log_file_list": [name],
    }
    assert "line 1200" in cli("logs", *ids, "--file", name).stdout
    missing = cli("logs", *ids, "--file", "other.0", code=1)
    assert "HTTP 404, ModelArts.2818" in missing.stderr and "--list" in missing.stderr


def test_tail_prints_the_newest_lines(cli: Cli, many: dict[str, Any]) -> None:
    ids = (str(many["job_id"]), str(many["version_id"]))
    out = cli("logs", *ids, "--tail", "3").stdout
    assert out.splitlines()[-3:] == ["line 1198", "line 1199", "line 1200"]
    page = json.loads(cli("logs", *ids, "--tail", "2", "--json").stdout)
    assert page["lines"] == 2 and page["content"].splitlines()[-1] == "line 1200"
    assert set(page) == {"is_success", "content", "lines", "start_line", "end_line"}
    assert "--json needs --list or --tail" in cli("logs", *ids, "--json", code=2).stderr


def test_follow_streams_until_the_run_ends(cli: Cli, server: Server) -> None:
    created = create(cli, server, TICKS)
    started = time.monotonic()
    result = cli("logs", str(created["job_id"]), str(created["version_id"]), "--follow",
                 "--poll-interval", "0.1")  # fmt: skip
    ticks = [line for line in result.stdout.splitlines() if line.startswith("tick")]
    assert ticks == [f"tick {i}" for i in range(1, 6)]
    assert time.monotonic() - started >= 1.0
    assert "V0001 COMPLETED in" in result.stderr


def test_follow_a_failing_run_exits_4(cli: Cli, server: Server) -> None:
    created = create(cli, server, TICKS, "-p", "code=3")
    result = cli("logs", str(created["job_id"]), str(created["version_id"]), "-f",
                 "--poll-interval", "0.1", code=4)  # fmt: skip
    assert "tick 5" in result.stdout and "FAILED in" in result.stderr


def test_tail_then_follow(cli: Cli, server: Server) -> None:
    created = create(cli, server, TICKS)
    ids = (str(created["job_id"]), str(created["version_id"]))
    server.wait_status(created["job_id"], created["version_id"], {8}, timeout_s=30)
    time.sleep(0.5)
    out = cli("logs", *ids, "--tail", "1", "--follow", "--poll-interval", "0.1").stdout
    ticks = [line for line in out.splitlines() if line.startswith("tick")]
    assert ticks[-1] == "tick 5" and len(ticks) == len(set(ticks))  # nothing printed twice
