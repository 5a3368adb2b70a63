"""``trainjobs versions``: create, list, show, stop and delete the versions of a job."""

from __future__ import annotations

import json as jsonlib
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from trainjobs.cli import configs, runs
from trainjobs.cli.output import (
    EXIT_CODES_HELP,
    DataDir,
    Endpoint,
    Json,
    ProjectId,
    Token,
    accuracy,
    connect,
    console,
    fmt_duration,
    fmt_parameters,
    fmt_status,
    fmt_time,
    handled,
    print_json,
    print_result,
)
from trainjobs.cli.tables import Column, fitted
from trainjobs.sdk.client import ApiClient
from trainjobs.sdk.statuses import COMPLETED, NAMES

app = typer.Typer(
    help="Create, list, show, stop and delete the versions of a training job.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)

JobId = Annotated[
    int, typer.Argument(min=1, metavar="JOB", help="Job ID, as `trainjobs jobs list` shows it.")
]
VersionId = Annotated[
    int,
    typer.Argument(
        min=1, metavar="VERSION", help="Version ID, as `trainjobs versions list JOB` shows it."
    ),
]
STOPPED = {code for code, name in NAMES.items() if name in ("KILLED", "CANCELED", "COMPLETED")}


def _parent_parameters(client: ApiClient, job_id: int, pre_version: int | None) -> list[Any]:
    with handled():
        if pre_version is not None:
            parent = client.get_version(job_id, pre_version)
        else:
            newest = client.list_versions(job_id, page=1, per_page=1).get("versions", [])
            parent = newest[0] if newest else {}
    return list(parent.get("parameter", []))


def _merge(parent: list[Any], given: list[dict[str, str]]) -> list[dict[str, str]]:
    """The parent's parameters, with those given replacing or adding by label."""
    merged = {str(p["label"]): str(p["value"]) for p in parent}
    merged.update({p["label"]: p["value"] for p in given})
    return [{"label": k, "value": v} for k, v in merged.items()]


@app.command(epilog=EXIT_CODES_HELP)
def create(
    job_id: JobId,
    from_version: Annotated[
        int | None,
        typer.Option(
            "--from",
            min=1,
            help="Version to derive from (pre_version_id).",
            show_default="the job's latest version",
        ),
    ] = None,
    param: runs.Params = None,
    replace_params: Annotated[
        bool,
        typer.Option(
            "--replace-params",
            help="Send only the --param values given. By default the parent's other "
            "parameters are kept.",
            rich_help_panel=runs.RUN,
        ),
    ] = False,
    config_name: configs.ConfigOption = None,
    code_dir: runs.CodeDir = None,
    boot_file: runs.BootFile = None,
    user_image_url: runs.UserImage = None,
    user_command: runs.UserCommand = None,
    engine: runs.Engine = None,
    data_url: runs.DataUrl = None,
    dataset_id: runs.DatasetId = None,
    dataset_version_id: runs.DatasetVersionId = None,
    train_url: runs.TrainUrl = None,
    log_url: runs.LogUrl = None,
    spec: runs.Spec = None,
    pool: runs.Pool = None,
    workers: runs.Workers = None,
    desc: Annotated[
        str | None, typer.Option(help="New description of the job (0-256 characters).")
    ] = None,
    wait: runs.Wait = False,
    poll_interval: runs.PollInterval = 0.5,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Start a new version of a job. It inherits every setting of the version it derives
    from, except those given here.

    Example: trainjobs versions create 12 --param C=10 --wait
    """
    client = connect(endpoint, token, project_id, data_dir)
    parameters = runs.parameters_or_none(param)
    if parameters is not None and not replace_params:
        parameters = _merge(_parent_parameters(client, job_id, from_version), parameters)
    config = runs.build_config(
        client,
        code_dir=code_dir,
        boot_file=boot_file,
        parameters=parameters,
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
    config = configs.with_config(client, config_name, config)
    if from_version is not None:
        config["pre_version_id"] = from_version
    elif not spec and not pool:
        runs.default_resources(client, job_id, config)
    body: dict[str, Any] = {"config": config}
    if desc is not None:
        body["job_desc"] = desc
    with handled():
        created = client.create_version(job_id, body)
    if json:
        print_json(created)
    else:
        console.print(
            f"created version {created['version_name']} ({created['version_id']}) "
            f"of job {escape(str(created.get('job_name', '')))} ({job_id})"
        )
    if wait:
        code = runs.wait_for_run(
            client, job_id, int(created["version_id"]), poll_interval, {COMPLETED}
        )
        raise typer.Exit(code)


@app.command("list", epilog=EXIT_CODES_HELP)
def list_versions(
    job_id: JobId,
    page: Annotated[
        int, typer.Option(min=0, max=65535, help="Page number; 0 lists every version.")
    ] = 0,
    per_page: Annotated[int, typer.Option(min=1, max=1000, help="Versions per page.")] = 10,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List a job's versions, newest first, with their parameters and reported accuracy,
    to compare them side by side."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.list_versions(job_id, page=page, per_page=per_page)
    if json:
        print_json(listed)
        return
    columns = [
        Column("version_id"),
        Column("name"),
        Column("parent", drop=3),
        Column("status"),
        Column("duration", drop=4),
        Column("parameters", drop=1, wrap=True),
        Column("accuracy", drop=2),
        Column("created", drop=5),
    ]
    rows = [
        [
            str(v["version_id"]),
            v["version_name"],
            str(v.get("pre_version_id") or ""),
            fmt_status(v["status"]),
            fmt_duration(v.get("duration")),
            escape(fmt_parameters(v.get("parameter", []))),
            accuracy(v.get("model_metric_list", "")),
            fmt_time(v.get("create_time")),
        ]
        for v in listed.get("versions", [])
    ]
    console.print(fitted(console, columns, rows))
    console.print(
        f"{len(listed.get('versions', []))} of {listed.get('version_count', 0)} version(s) "
        f"of job {escape(str(listed.get('job_name', '')))} ({job_id})"
    )


SHOWN = (
    "job_id", "job_name", "job_desc", "version_id", "version_name", "pre_version_id", "status",
    "create_time", "start_time", "duration", "engine_name", "engine_version", "spec_code",
    "core", "cpu", "gpu_num", "worker_server_num", "pool_id", "app_url", "boot_file_url",
    "parameter", "data_url", "train_url", "log_url", "user_image_url", "user_command",
    "failure_reason", "code_digest",
)  # fmt: skip


def _cell(key: str, value: Any) -> str:
    if key == "status":
        return fmt_status(int(value))
    if key in ("create_time", "start_time"):
        return fmt_time(value)
    if key == "duration":
        return fmt_duration(value)
    if key == "parameter":
        return escape(fmt_parameters(value or []))
    return escape(str(value))


@app.command(epilog=EXIT_CODES_HELP)
def show(
    job_id: JobId,
    version_id: VersionId,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Show one version in detail: its settings, status, timing and reported metrics."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        version = client.get_version(job_id, version_id)
    if json:
        print_json(version)
        return
    table = Table("field", "value", show_header=False, box=None)
    for key in SHOWN:
        value = version.get(key)
        if value not in (None, "", [], 0) or key in ("status", "duration", "pre_version_id"):
            table.add_row(key, _cell(key, value))
    table.add_row("accuracy", accuracy(version.get("model_metric_list", "")))
    console.print(table)
    metrics = _metric_summary(version.get("model_metric_list", ""))
    if metrics:
        console.print(f"model metrics: {escape(metrics)}")


def _metric_summary(text: str) -> str:
    try:
        values = jsonlib.loads(text or "{}")["total_metric"]["total_metric_values"]
    except (ValueError, KeyError, TypeError):
        return ""
    if not isinstance(values, dict):
        return ""
    return " ".join(
        f"{k}={v:.4f}" if isinstance(v, int | float) else f"{k}={v}" for k, v in values.items()
    )


@app.command(epilog=EXIT_CODES_HELP)
def stop(
    job_id: JobId,
    version_id: VersionId,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait until the version has stopped, showing its status."),
    ] = False,
    poll_interval: runs.PollInterval = 0.5,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Stop a version that is waiting or running (it ends KILLED, or CANCELED if it had
    not started)."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        result = client.stop_version(job_id, version_id)
    print_result(result, json, f"stopping version {version_id} of job {job_id}")
    if wait:
        raise typer.Exit(runs.wait_for_run(client, job_id, version_id, poll_interval, STOPPED))


@app.command(epilog=EXIT_CODES_HELP)
def delete(
    job_id: JobId,
    version_id: VersionId,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Delete one version of a job, stopping it first if it runs."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        result = client.delete_version(job_id, version_id)
    print_result(result, json, f"deleted version {version_id} of job {job_id}")
