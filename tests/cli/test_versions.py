"""``trainjobs versions`` against a real server: derive, compare, stop and delete."""

from __future__ import annotations

import time
from typing import Any

import pytest

from cli.conftest import Cli
from conftest import Server, unique_name


@pytest.fixture
def job(cli: Cli, code: tuple[str, str]) -> dict[str, Any]:
    """A job whose first version ran with lr=0.25 epochs=2 and COMPLETED."""
    created: dict[str, Any] = cli.json(
        "jobs", "create", unique_name(), "--code-dir", code[0], "--boot-file", "train.py",
        "-p", "lr=0.25", "-p", "epochs=2", "--wait", "--poll-interval", "0.1",
    )  # fmt: skip
    return created


def running(server: Server, job_id: int, version_id: int) -> None:
    server.wait_status(job_id, version_id, {8}, timeout_s=30)


def test_create_with_wait_merges_parameters_and_compares(
    cli: Cli, server: Server, job: dict[str, Any]
) -> None:
    job_id = str(job["job_id"])
    result = cli("versions", "create", job_id, "--param", "lr=0.75", "--wait",
                 "--poll-interval", "0.1", "--desc", "try a larger lr")  # fmt: skip
    assert "created version V0002 (" in result.stdout
    assert "V0002 COMPLETED in " in result.stderr
    listed = cli.json("versions", "list", job_id)
    newest, oldest = listed["versions"]
    assert newest["parameter"] == [
        {"label": "lr", "value": "0.75"},  # given
        {"label": "epochs", "value": "2"},  # kept from the parent
    ]
    assert newest["pre_version_id"] == oldest["version_id"] == job["version_id"]
    assert listed["job_desc"] == "try a larger lr"
    table = cli("versions", "list", job_id).stdout
    assert "lr=0.75 epochs=2" in table and "lr=0.25 epochs=2" in table
    assert "0.7500" in table  # the accuracy each run reported, side by side
    assert "2 of 2 version(s)" in table


def test_replace_params_and_derive_from_an_older_version(cli: Cli, job: dict[str, Any]) -> None:
    job_id = str(job["job_id"])
    second = cli.json("versions", "create", job_id, "-p", "lr=0.5", "--replace-params")
    third = cli.json("versions", "create", job_id, "--from", str(job["version_id"]), "-p",
                     "epochs=9")  # fmt: skip
    listed = {v["version_id"]: v for v in cli.json("versions", "list", job_id)["versions"]}
    assert listed[second["version_id"]]["parameter"] == [{"label": "lr", "value": "0.5"}]
    assert listed[third["version_id"]]["pre_version_id"] == job["version_id"]
    assert listed[third["version_id"]]["parameter"] == [
        {"label": "lr", "value": "0.25"},
        {"label": "epochs", "value": "9"},
    ]
    page = cli.json("versions", "list", job_id, "--page", "1", "--per-page", "2")
    assert [v["version_id"] for v in page["versions"]] == [
        third["version_id"],
        second["version_id"],
    ]
    assert page["version_count"] == 3
    bad = cli("versions", "create", job_id, "-p", "no-equals-sign", code=2)
    assert "label=value" in bad.stderr


def test_show_prints_details_and_json_unchanged(
    cli: Cli, server: Server, job: dict[str, Any]
) -> None:
    ids = (str(job["job_id"]), str(job["version_id"]))
    assert cli.json("versions", "show", *ids) == server.version(job["job_id"], job["version_id"])
    table = cli("versions", "show", *ids).stdout
    for expected in ("version_name", "V0001", "COMPLETED", "lr=0.25 epochs=2", "accuracy",
                     "0.2500", "train_url"):  # fmt: skip
        assert expected in table


def test_stop_a_running_version_with_wait(cli: Cli, server: Server, code: tuple[str, str]) -> None:
    created = cli.json("jobs", "create", unique_name(), "--code-dir", code[0], "--boot-file",
                       "train.py", "-p", "sleep=30")  # fmt: skip
    ids = (str(created["job_id"]), str(created["version_id"]))
    running(server, created["job_id"], created["version_id"])
    started = time.monotonic()
    result = cli("versions", "stop", *ids, "--wait", "--poll-interval", "0.1")
    assert f"stopping version {ids[1]}" in result.stdout and "KILLED in" in result.stderr
    assert time.monotonic() - started < 20
    again = cli("versions", "stop", *ids, code=1)
    assert "HTTP 409, ModelArts.2796" in again.stderr and "hint:" in again.stderr


def test_wait_on_a_failing_run_exits_4_with_a_hint(cli: Cli, server: Server) -> None:
    code_dir, _boot = server.upload_script("import sys\nprint('bad data')\nsys.exit(5)\n")
    result = cli("jobs", "create", unique_name(), "--code-dir", code_dir, "--boot-file",
                 "train.py", "--wait", "--poll-interval", "0.1", code=4)  # fmt: skip
    assert "FAILED in" in result.stderr and "trainjobs logs" in result.stderr


def test_delete_a_version(cli: Cli, job: dict[str, Any]) -> None:
    job_id = str(job["job_id"])
    second = cli.json("versions", "create", job_id)
    result = cli("versions", "delete", job_id, str(second["version_id"]))
    assert f"deleted version {second['version_id']}" in result.stdout
    assert [v["version_id"] for v in cli.json("versions", "list", job_id)["versions"]] == [
        job["version_id"]
    ]
    gone = cli("versions", "show", job_id, str(second["version_id"]), code=1)
    assert "ModelArts.2775" in gone.stderr
    assert cli.json("versions", "delete", job_id, str(job["version_id"])) == {"is_success": True}


@pytest.mark.parametrize(
    "args",
    [
        ("versions", "list", "987654321"),
        ("versions", "show", "987654321", "1"),
        ("versions", "stop", "987654321", "1"),
        ("versions", "delete", "987654321", "1"),
        ("versions", "create", "987654321"),
        ("jobs", "show", "987654321"),
        ("jobs", "describe", "987654321", "x"),
        ("jobs", "delete", "987654321"),
        ("logs", "987654321", "1"),
    ],
)
def test_unknown_ids_exit_1_with_code_and_hint(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args, code=1)
    assert "HTTP 404, ModelArts.2775" in result.stderr
    assert "hint: check the IDs with `trainjobs jobs list`" in result.stderr
    assert result.stdout == ""


def test_ids_must_be_numbers(cli: Cli) -> None:
    result = cli("versions", "show", "abc", "1", code=2)
    assert "Traceback" not in result.output
