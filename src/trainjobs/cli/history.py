"""``trainjobs versions rerun`` and ``versions diff``: run a version's exact code
again, and see what changed between two versions."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from trainjobs.cli import runs
from trainjobs.cli.output import (
    EXIT_CODES_HELP,
    DataDir,
    Endpoint,
    Json,
    ProjectId,
    Token,
    connect,
    console,
    handled,
    print_json,
)
from trainjobs.cli.versions import JobId, VersionId, app
from trainjobs.sdk.statuses import COMPLETED


@app.command(epilog=EXIT_CODES_HELP)
def rerun(
    job_id: JobId,
    version_id: VersionId,
    wait: runs.Wait = False,
    poll_interval: runs.PollInterval = 0.5,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Run a version again exactly: a new version with its code snapshot (even if the
    code folder changed since) and its configuration.

    Example: trainjobs versions rerun 12 3 --wait
    """
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        created = client.rerun_version(job_id, version_id)
    if json:
        print_json(created)
    else:
        console.print(
            f"created version {created['version_name']} ({created['version_id']}) "
            f"re-running version {version_id} of job {job_id}"
        )
    if wait:
        code = runs.wait_for_run(
            client, job_id, int(created["version_id"]), poll_interval, {COMPLETED}
        )
        raise typer.Exit(code)


def _value(value: Any) -> str:
    return "(none)" if value is None else escape(str(value))


def _changes(title: str, changes: list[dict[str, Any]], a: str, b: str) -> None:
    if not changes:
        return
    table = Table(title, escape(a), escape(b), title_justify="left")
    for c in changes:
        table.add_row(escape(str(c["name"])), _value(c["a"]), _value(c["b"]))
    console.print(table)


@app.command(epilog=EXIT_CODES_HELP)
def diff(
    job_id: JobId,
    version_a: VersionId,
    version_b: VersionId,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Show how version B differs from version A: configuration, parameters, metrics
    and code (a unified diff of the changed files).

    Example: trainjobs versions diff 12 3 4
    """
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        found = client.diff_versions(job_id, version_a, version_b)
    if json:
        print_json(found)
        return
    a, b = found["a"]["version_name"], found["b"]["version_name"]
    _changes("configuration", found["config"], a, b)
    _changes("parameter", found["parameters"], a, b)
    _changes("metric", found["metrics"], a, b)
    digests = (found["a"]["code_digest"][:12], found["b"]["code_digest"][:12])
    if found["code"]:
        console.print(f"code: {len(found['code'])} file(s) differ ({digests[0]} -> {digests[1]})")
        for f in found["code"]:
            console.print(Syntax(f["diff"], "diff", theme="ansi_dark", word_wrap=True))
    elif found["code_note"]:
        console.print(f"code: {escape(found['code_note'])}")
    elif digests[0]:
        console.print(f"code: the same ({digests[0]})")
    if not (found["config"] or found["parameters"] or found["metrics"] or found["code"]):
        console.print(f"{escape(a)} and {escape(b)} differ in nothing but their runs")
