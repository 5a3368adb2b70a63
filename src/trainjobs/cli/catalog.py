"""``trainjobs specs`` and ``trainjobs engines``: what a version can run on and with."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from trainjobs.cli.output import (
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


def specs(
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List the resource specs: use a spec_code or spec_id with --spec."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.resource_specs()
    if json:
        print_json(listed)
        return
    table = Table("spec_id", "spec_code", "cores", "memory GiB", "gpus", "gpu type", "max workers")
    for s in listed.get("specs", []):
        table.add_row(
            str(s["spec_id"]),
            escape(str(s["spec_code"])),
            str(s.get("core", "")),
            str(s.get("cpu", "")),
            str(s.get("gpu_num", 0)),
            escape(str(s.get("gpu_type", ""))),
            str(s.get("max_num", "")),
        )
    console.print(table)


def engines(
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List the engines: use an engine's ID, name or version with --engine."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.ai_engines()
    if json:
        print_json(listed)
        return
    table = Table("engine_id", "name", "version", "engine_type")
    for e in listed.get("engines", []):
        table.add_row(
            str(e["engine_id"]),
            escape(str(e["engine_name"])),
            escape(str(e["engine_version"])),
            str(e.get("engine_type", "")),
        )
    console.print(table)
