"""``trainjobs viz``: TensorBoard visualization jobs."""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer
from rich.markup import escape

from trainjobs.cli.output import (
    EXIT_CODES_HELP,
    DataDir,
    Endpoint,
    Json,
    ProjectId,
    Token,
    connect,
    console,
    fmt_duration,
    fmt_status,
    fmt_time,
    handled,
    parse_statuses,
    print_json,
    print_result,
)
from trainjobs.cli.tables import Column, fitted

app = typer.Typer(
    help="TensorBoard visualization jobs: create, list, show, stop, restart, delete, open.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)

JobId = Annotated[
    int, typer.Argument(min=1, metavar="ID", help="Visualization job ID (`trainjobs viz list`).")
]


@app.command(epilog=EXIT_CODES_HELP)
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="1-20 letters, digits, '_', '-'.")],
    train_url: Annotated[
        str, typer.Option(help="Object-store folder with TensorBoard event files.")
    ],
    desc: Annotated[str, typer.Option(help="Description (0-256 characters).")] = "",
    hours: Annotated[
        int, typer.Option(min=0, max=24, help="Stop after this many hours running (0: never).")
    ] = 0,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Start a TensorBoard over a train_url.

    Example: trainjobs viz create digits --train-url obs://trainjobs/digits/V0001/output/
    """
    client = connect(endpoint, token, project_id, data_dir)
    body: dict[str, object] = {"job_name": name, "job_desc": desc, "train_url": train_url}
    if hours:
        body["schedule"] = {"type": "stop", "time_unit": "HOURS", "duration": hours}
    with handled():
        created = client.create_visualization(body)
    print_result(
        created, json, f"created visualization job {name} ({created['job_id']}): "
        f"{created['service_url']}"
    )  # fmt: skip


@app.command("list", epilog=EXIT_CODES_HELP)
def list_viz(
    status: Annotated[str | None, typer.Option(help="Only this status (code or name).")] = None,
    search: Annotated[str | None, typer.Option(help="Only names containing this.")] = None,
    page: Annotated[int, typer.Option(min=1, max=65535, help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=1000, help="Per page.")] = 10,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List visualization jobs."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.list_visualizations(
            status=parse_statuses(status) if status else None, search_content=search or None,
            page=page, per_page=per_page,
        )  # fmt: skip
    if json:
        print_json(listed)
        return
    columns = [
        Column("id"),
        Column("name"),
        Column("status"),
        Column("duration", drop=3),
        Column("created", drop=4),
        Column("train_url", drop=1, wrap=True),
    ]
    rows = [
        [
            str(job["job_id"]), escape(job["job_name"]), fmt_status(job["status"]),
            fmt_duration(job.get("duration")), fmt_time(job.get("create_time")),
            escape(str(job.get("train_url", ""))),
        ]  # fmt: skip
        for job in listed.get("jobs", [])
    ]
    console.print(fitted(console, columns, rows))
    console.print(f"{len(listed.get('jobs', []))} of {listed.get('job_total_count', 0)}")


@app.command(epilog=EXIT_CODES_HELP)
def show(
    job_id: JobId,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Show one visualization job, with its service_url."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        job = client.visualization(job_id)
    if json:
        print_json(job)
        return
    for key in ("job_id", "job_name", "job_desc", "status", "duration", "create_time",
                "train_url", "service_url", "failure_reason"):  # fmt: skip
        value = job.get(key, "")
        if key == "status":
            value = fmt_status(value)
        elif key == "duration":
            value = fmt_duration(value)
        elif key == "create_time":
            value = fmt_time(value)
        else:
            value = escape(str(value))
        console.print(f"{key:15} {value}")


def _action(action: str, method: str, job_id: int, json: bool, message: str, *conn: object) -> None:
    client = connect(*conn)  # type: ignore[arg-type]
    with handled():
        result = client.visualization(job_id, action, method=method)
    print_result(result, json, message)


@app.command(epilog=EXIT_CODES_HELP)
def stop(
    job_id: JobId, json: Json = False, endpoint: Endpoint = None, token: Token = None,
    project_id: ProjectId = None, data_dir: DataDir = None,
) -> None:  # fmt: skip
    """Stop a running visualization job (its TensorBoard ends)."""
    _action("stop", "POST", job_id, json, f"stopping visualization job {job_id}",
            endpoint, token, project_id, data_dir)  # fmt: skip


@app.command(epilog=EXIT_CODES_HELP)
def restart(
    job_id: JobId, json: Json = False, endpoint: Endpoint = None, token: Token = None,
    project_id: ProjectId = None, data_dir: DataDir = None,
) -> None:  # fmt: skip
    """Start a stopped or failed visualization job again, at the same service_url."""
    _action("restart", "POST", job_id, json, f"restarting visualization job {job_id}",
            endpoint, token, project_id, data_dir)  # fmt: skip


@app.command(epilog=EXIT_CODES_HELP)
def delete(
    job_id: JobId, json: Json = False, endpoint: Endpoint = None, token: Token = None,
    project_id: ProjectId = None, data_dir: DataDir = None,
) -> None:  # fmt: skip
    """Delete a visualization job, stopping it first."""
    _action("", "DELETE", job_id, json, f"deleted visualization job {job_id}",
            endpoint, token, project_id, data_dir)  # fmt: skip


@app.command("open", epilog=EXIT_CODES_HELP)
def open_viz(
    job_id: JobId, endpoint: Endpoint = None, token: Token = None,
    project_id: ProjectId = None, data_dir: DataDir = None,
) -> None:  # fmt: skip
    """Print the job's TensorBoard address, and open it in a browser when there is one."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        job = client.visualization(job_id)
    url = str(job["service_url"])
    typer.echo(url)
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return  # no browser here: the address is the answer
    browser.open(url)
