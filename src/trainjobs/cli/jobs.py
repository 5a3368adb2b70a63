"""``trainjobs jobs``: create, list, show, describe and delete training jobs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer
from rich.markup import escape

from trainjobs.cli import configs, runs
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
    fmt_parameters,
    fmt_status,
    fmt_time,
    handled,
    parse_statuses,
    print_json,
    print_result,
)
from trainjobs.cli.tables import Column, fitted
from trainjobs.sdk.statuses import COMPLETED

app = typer.Typer(
    help="Create, list, show, describe and delete training jobs.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)

JobId = Annotated[
    int, typer.Argument(min=1, metavar="JOB", help="Job ID, as `trainjobs jobs list` shows it.")
]
SortKey = Literal["job_name", "job_desc", "status", "duration", "version_count", "create_time"]


@app.command(epilog=EXIT_CODES_HELP)
def create(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="Job name: 1-64 letters, digits, '_' or '-'; unique."),
    ],
    config_name: configs.ConfigOption = None,
    algorithm: configs.Algorithm = None,
    code_dir: runs.CodeDir = None,
    boot_file: runs.BootFile = None,
    param: runs.Params = None,
    user_image_url: runs.UserImage = None,
    user_command: runs.UserCommand = None,
    engine: runs.Engine = None,
    data_url: runs.DataUrl = None,
    dataset_id: runs.DatasetId = None,
    dataset_version_id: runs.DatasetVersionId = None,
    train_url: runs.TrainUrl = None,
    log_url: runs.LogUrl = None,
    spec: Annotated[
        str | None,
        typer.Option(
            help="Resource spec: spec_code or spec_id from `trainjobs specs`.",
            show_default="the first spec",
            rich_help_panel=runs.RESOURCES,
        ),
    ] = None,
    pool: runs.Pool = None,
    workers: Annotated[
        int, typer.Option(min=1, help=runs.WORKERS_HELP, rich_help_panel=runs.RESOURCES)
    ] = 1,
    desc: Annotated[str | None, typer.Option(help="Job description (0-256 characters).")] = None,
    no_version: Annotated[
        bool,
        typer.Option(
            "--no-version",
            help="Create the job only; its first version comes from `trainjobs versions create`.",
        ),
    ] = False,
    wait: runs.Wait = False,
    poll_interval: runs.PollInterval = 0.5,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Create a training job and start its first version (V0001).

    Example: trainjobs jobs create digits --code-dir obs://demo/code/ --boot-file train.py
    --data-url obs://demo/data/ --param C=1.0 --wait
    """
    client = connect(endpoint, token, project_id, data_dir)
    config = runs.build_config(
        client,
        code_dir=code_dir,
        boot_file=boot_file,
        parameters=runs.parameters_or_none(param),
        user_image_url=user_image_url,
        user_command=user_command,
        engine=engine,
        data_url=data_url,
        dataset_id=dataset_id,
        dataset_version_id=dataset_version_id,
        train_url=train_url,
        log_url=log_url,
        spec=spec,
        pool=pool,
        workers=workers,
    )
    if algorithm:
        config["model_id"] = configs.resolve_algorithm(client, algorithm)
    if config_name and workers == 1:
        config.pop("worker_server_num")  # the default: the configuration's count wins
    config = configs.with_config(client, config_name, config)
    if not spec and not pool:
        runs.default_resources(client, None, config)
    if no_version:
        config["create_version"] = False
    body: dict[str, Any] = {"job_name": name, "config": config}
    if desc is not None:
        body["job_desc"] = desc
    with handled():
        created = client.create_job(body)
    if json:
        print_json(created)
    else:
        version = f" version {created['version_name']} ({created['version_id']})"
        console.print(
            f"created job {created['job_name']} ({created['job_id']})"
            + (version if created.get("version_id") else " with no version")
        )
    if wait and created.get("version_id"):
        code = runs.wait_for_run(
            client, created["job_id"], created["version_id"], poll_interval, {COMPLETED}
        )
        raise typer.Exit(code)


@app.command("list", epilog=EXIT_CODES_HELP)
def list_jobs(
    status: Annotated[
        str | None,
        typer.Option(
            help="Only jobs whose latest version has this status: a code or name, "
            "or a comma list (running,failed)."
        ),
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Only jobs whose name contains this (any case).")
    ] = None,
    sort_by: Annotated[SortKey, typer.Option(help="Sort key.")] = "job_name",
    order: Annotated[Literal["asc", "desc"], typer.Option(help="Sort order.")] = "asc",
    page: Annotated[int, typer.Option(min=1, max=65535, help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=1000, help="Jobs per page.")] = 10,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List training jobs, each with its latest version's status."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.list_jobs(
            status=parse_statuses(status) if status else None,
            per_page=per_page,
            page=page,
            sort_by=sort_by,
            order=order,
            search_content=search or None,
        )
    if json:
        print_json(listed)
        return
    columns = [
        Column("job_id"),
        Column("name"),
        Column("version", drop=3),
        Column("status"),
        Column("duration", drop=2),
        Column("versions", drop=4),
        Column("created", drop=5),
        Column("desc", drop=6, wrap=True),
    ]
    rows = [
        [
            str(job["job_id"]),
            escape(str(job["job_name"])),
            str(job["version_id"] or ""),
            fmt_status(job["status"]) if job.get("version_count") else "",
            fmt_duration(job.get("duration")),
            str(job.get("version_count", "")),
            fmt_time(job.get("create_time")),
            escape(str(job.get("job_desc", ""))),
        ]
        for job in listed.get("jobs", [])
    ]
    console.print(fitted(console, columns, rows))
    shown = len(listed.get("jobs", []))
    console.print(
        f"{shown} of {listed.get('job_total_count', shown)} job(s); "
        f"quota {listed.get('quotas', '')}, {listed.get('job_count_limit', '')} left"
    )


@app.command(epilog=EXIT_CODES_HELP)
def show(
    job_id: JobId,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Show a job and all its versions, newest first."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.list_versions(job_id, page=0)
    if json:
        print_json(listed)
        return
    console.print(f"[bold]{listed['job_name']}[/bold] (job {listed['job_id']})")
    if listed.get("job_desc"):
        console.print(escape(str(listed["job_desc"])))
    columns = [
        Column("version_id"),
        Column("name"),
        Column("status"),
        Column("duration", drop=2),
        Column("parameters", drop=1, wrap=True),
        Column("created", drop=3),
    ]
    rows = [
        [
            str(v["version_id"]),
            v["version_name"],
            fmt_status(v["status"]),
            fmt_duration(v.get("duration")),
            escape(fmt_parameters(v.get("parameter", []))),
            fmt_time(v.get("create_time")),
        ]
        for v in listed.get("versions", [])
    ]
    console.print(fitted(console, columns, rows))
    console.print(f"{listed.get('version_count', 0)} version(s)")


@app.command(epilog=EXIT_CODES_HELP)
def describe(
    job_id: JobId,
    description: Annotated[str, typer.Argument(help="The new description (0-256 characters).")],
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Change a job's description."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        result = client.update_job(job_id, description)
    print_result(result, json, f"job {job_id}: description updated")


@app.command(epilog=EXIT_CODES_HELP)
def delete(
    job_id: JobId,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Delete a job and all its versions, stopping any that still run."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        result = client.delete_job(job_id)
    print_result(result, json, f"deleted job {job_id}")
