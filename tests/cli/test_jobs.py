"""``trainjobs jobs`` and the catalogue commands against a real server."""

from __future__ import annotations

from cli.conftest import COLUMNS, Cli
from conftest import Server, unique_name
from trainjobs.cli import output


def test_specs_and_engines(cli: Cli, server: Server) -> None:
    specs = server.client.get(f"{server.v1}/job/resource-specs").json()
    engines = server.client.get(f"{server.v1}/job/ai-engines").json()
    assert cli.json("specs") == specs
    assert cli.json("engines") == engines
    table = cli("specs").stdout
    assert "spec_code" in table and specs["specs"][0]["spec_code"] in table
    table = cli("engines").stdout
    assert all(e["engine_version"] in table for e in engines["engines"])


def test_create_with_wait_shows_status_and_ends_completed(
    cli: Cli, server: Server, code: tuple[str, str]
) -> None:
    code_dir, boot = code
    name = unique_name()
    result = cli(
        "jobs", "create", name, "--code-dir", code_dir, "--boot-file", "train.py",
        "--param", "lr=0.25", "-p", "epochs=2", "--desc", "from the CLI", "--wait",
        "--poll-interval", "0.1",
    )  # fmt: skip
    assert f"created job {name} (" in result.stdout and "version V0001 (" in result.stdout
    assert f"{name} V0001 COMPLETED in " in result.stderr
    job = cli.json("jobs", "list", "--search", name)["jobs"][0]
    version = server.version(job["job_id"], job["version_id"])
    assert version["parameter"] == [
        {"label": "lr", "value": "0.25"},
        {"label": "epochs", "value": "2"},
    ]
    assert version["boot_file_url"] == boot and version["job_desc"] == "from the CLI"
    assert version["spec_id"] == 1  # the first spec by default


def test_create_json_prints_the_service_response(cli: Cli, code: tuple[str, str]) -> None:
    name = unique_name()
    created = cli.json("jobs", "create", name, "--code-dir", code[0], "--boot-file", code[1])
    assert created["is_success"] is True and created["job_name"] == name
    assert set(created) >= {"job_id", "version_id", "version_name", "status", "create_time"}


def test_create_with_named_spec_and_engine(cli: Cli, server: Server, code: tuple[str, str]) -> None:
    spec = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"][0]
    engine = server.client.get(f"{server.v1}/job/ai-engines").json()["engines"][-1]
    created = cli.json(
        "jobs", "create", unique_name(), "--code-dir", code[0], "--boot-file", "train.py",
        "--spec", spec["spec_code"], "--engine", engine["engine_version"], "--workers", "1",
    )  # fmt: skip
    version = server.version(created["job_id"], created["version_id"])
    assert (version["spec_id"], version["engine_id"]) == (spec["spec_id"], engine["engine_id"])


def test_create_refuses_unknown_spec_and_engine(cli: Cli, code: tuple[str, str]) -> None:
    result = cli(
        "jobs", "create", unique_name(), "--code-dir", code[0], "--boot-file", "train.py",
        "--spec", "modelarts.vm.gpu.p100", code=1,
    )  # fmt: skip
    assert "not a resource spec" in result.stderr and "trainjobs specs" in result.stderr
    result = cli(
        "jobs", "create", unique_name(), "--code-dir", code[0], "--boot-file", "train.py",
        "--engine", "TensorFlow", code=1,
    )  # fmt: skip
    assert "not an engine" in result.stderr and "trainjobs engines" in result.stderr


def test_create_failure_prints_code_and_hint(cli: Cli, code: tuple[str, str]) -> None:
    name = unique_name()
    cli("jobs", "create", name, "--code-dir", code[0], "--boot-file", "train.py")
    result = cli("jobs", "create", name, "--code-dir", code[0], "--boot-file", "train.py", code=1)
    assert "HTTP 400, ModelArts.0103" in result.stderr and "hint:" in result.stderr
    result = cli(
        "jobs", "create", unique_name(), "--code-dir", "/no-such-bucket/code/",
        "--boot-file", "train.py", code=1,
    )  # fmt: skip
    assert "ModelArts.27" in result.stderr and "hint:" in result.stderr


def test_create_without_version_then_first_version(cli: Cli, code: tuple[str, str]) -> None:
    name = unique_name()
    result = cli(
        "jobs", "create", name, "--code-dir", code[0], "--boot-file", "train.py", "--no-version"
    )
    assert "with no version" in result.stdout
    job = cli.json("jobs", "list", "--search", name)["jobs"][0]
    assert job["version_count"] == 0
    # with no version to inherit from, the first one names its program
    result = cli("versions", "create", str(job["job_id"]), code=1)
    assert "ModelArts.0104" in result.stderr
    created = cli.json(
        "versions", "create", str(job["job_id"]), "--code-dir", code[0], "--boot-file", "train.py"
    )
    assert created["version_name"] == "V0001"


def test_list_filters_sorts_and_pages(cli: Cli, code: tuple[str, str]) -> None:
    prefix = unique_name()
    for suffix in ("b", "a", "c"):
        cli("jobs", "create", f"{prefix}-{suffix}", "--code-dir", code[0], "--boot-file",
            "train.py", "--wait", "--poll-interval", "0.1")  # fmt: skip
    listed = cli.json("jobs", "list", "--search", prefix)
    assert [j["job_name"] for j in listed["jobs"]] == [f"{prefix}-{s}" for s in "abc"]
    desc = cli.json("jobs", "list", "--search", prefix, "--order", "desc", "--per-page", "2")
    assert [j["job_name"] for j in desc["jobs"]] == [f"{prefix}-c", f"{prefix}-b"]
    assert desc["job_total_count"] == 3
    page = cli.json("jobs", "list", "--search", prefix, "--per-page", "2", "--page", "2")
    assert [j["job_name"] for j in page["jobs"]] == [f"{prefix}-c"]
    by_time = cli.json("jobs", "list", "--search", prefix, "--sort-by", "create_time")
    assert [j["job_name"] for j in by_time["jobs"]] == [f"{prefix}-{s}" for s in "bac"]
    done = cli.json("jobs", "list", "--search", prefix, "--status", "completed")
    assert done["job_total_count"] == 3
    assert cli.json("jobs", "list", "--search", prefix, "--status", "8,failed")["jobs"] == []
    table = cli("jobs", "list", "--search", prefix).stdout
    assert f"{prefix}-a" in table and "COMPLETED" in table and "3 of 3 job(s)" in table
    bad = cli("jobs", "list", "--status", "sleeping", code=2)
    assert "not a status" in bad.stderr


def test_show_describe_delete(cli: Cli, server: Server, code: tuple[str, str]) -> None:
    name = unique_name()
    created = cli.json(
        "jobs", "create", name, "--code-dir", code[0], "--boot-file", "train.py", "--wait",
        "--poll-interval", "0.1",
    )  # fmt: skip
    job_id = str(created["job_id"])
    assert cli.json("jobs", "describe", job_id, "now described") == {"is_success": True}
    shown = cli.json("jobs", "show", job_id)
    assert shown == server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    assert shown["job_desc"] == "now described"
    table = cli("jobs", "show", job_id).stdout
    assert name in table and "now described" in table and "V0001" in table
    assert "description updated" in cli("jobs", "describe", job_id, "[b]as typed[/b]").stdout
    assert "[b]as typed[/b]" in cli("jobs", "show", job_id).stdout  # not read as markup
    # At 80 columns the list leaves the description out, and says so...
    listed = cli("jobs", "list", "--search", name).stdout
    assert "left out to fit 80 columns: created, desc" in listed and name in listed
    # ...and shows it, as typed, where there is room.
    output.console.width = 200
    try:
        assert "[b]as typed[/b]" in cli("jobs", "list", "--search", name).stdout
    finally:
        output.console.width = COLUMNS
    assert f"deleted job {job_id}" in cli("jobs", "delete", job_id).stdout
    result = cli("jobs", "show", job_id, code=1)
    assert "HTTP 404, ModelArts.2775" in result.stderr and "trainjobs jobs list" in result.stderr
    assert cli("jobs", "delete", job_id, code=1).exit_code == 1
    assert cli.json("jobs", "create", unique_name(), "--code-dir", code[0], "--boot-file",
                    "train.py")["is_success"]  # fmt: skip
    other = cli.json("jobs", "list", "--per-page", "1")["jobs"][0]
    assert cli.json("jobs", "delete", str(other["job_id"])) == {"is_success": True}
