"""Options that describe what a version runs, shared by `jobs create` and `versions create`,
and waiting for a run with a live status line."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from trainjobs.cli.output import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    deferred_interrupts,
    err,
    fail,
    handled,
    parse_parameters,
)
from trainjobs.sdk.client import ApiClient
from trainjobs.sdk.progress import StatusLine
from trainjobs.sdk.statuses import status_name
from trainjobs.sdk.watch import wait_for_version

RUN = "What runs"
DATA = "Data and outputs"
RESOURCES = "Where it runs"

CodeDir = Annotated[
    str | None,
    typer.Option(
        help="Code folder in the store, e.g. obs://bucket/code/ (upload: `trainjobs obs cp`).",
        rich_help_panel=RUN,
    ),
]
BootFile = Annotated[
    str | None,
    typer.Option(
        help="Script to run: a name inside --code-dir (train.py) or a full store path.",
        rich_help_panel=RUN,
    ),
]
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="LABEL=VALUE",
        help="A hyperparameter as label=value, passed to the script as --label=value. Repeat it.",
        rich_help_panel=RUN,
    ),
]
UserImage = Annotated[
    str | None,
    typer.Option(
        help="Custom image address (recorded; see the service's notes).", rich_help_panel=RUN
    ),
]
UserCommand = Annotated[
    str | None,
    typer.Option(
        help="Command for a custom image; parameters become env variables.", rich_help_panel=RUN
    ),
]
Engine = Annotated[
    str | None,
    typer.Option(
        help="Engine: its ID, name or version as `trainjobs engines` lists them.",
        rich_help_panel=RUN,
    ),
]
DataUrl = Annotated[
    str | None,
    typer.Option(
        help="Input data folder in the store (the script gets --data_url).", rich_help_panel=DATA
    ),
]
DatasetId = Annotated[
    str | None, typer.Option(help="Dataset ID (with --dataset-version-id).", rich_help_panel=DATA)
]
DatasetVersionId = Annotated[
    str | None, typer.Option(help="Dataset version ID (with --dataset-id).", rich_help_panel=DATA)
]
TrainUrl = Annotated[
    str | None,
    typer.Option(
        help="Output folder in the store (the script gets --train_url).",
        show_default="a new folder per version",
        rich_help_panel=DATA,
    ),
]
LogUrl = Annotated[
    str | None,
    typer.Option(
        help="Store folder the logs are copied to when the run ends.", rich_help_panel=DATA
    ),
]
Spec = Annotated[
    str | None,
    typer.Option(
        help="Resource spec: its spec_code or spec_id as `trainjobs specs` lists them.",
        show_default="the parent's; the first spec for a job's first version",
        rich_help_panel=RESOURCES,
    ),
]
Pool = Annotated[str | None, typer.Option(help="Resource pool ID.", rich_help_panel=RESOURCES)]
WORKERS_HELP = "Number of workers (at most the spec's max_num)."
Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help=WORKERS_HELP,
        show_default="the parent's; 1 for a job's first version",
        rich_help_panel=RESOURCES,
    ),
]
Wait = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Wait for the run to end, showing a live status line; exit 4 unless it COMPLETED.",
    ),
]
PollInterval = Annotated[
    float, typer.Option(min=0.05, help="Seconds between status checks while waiting.")
]


def resolve_spec(client: ApiClient, wanted: str) -> int:
    with handled():
        specs = client.resource_specs().get("specs", [])
    for spec in specs:
        if wanted in (str(spec.get("spec_code")), str(spec.get("spec_id"))):
            return int(spec["spec_id"])
    codes = ", ".join(f"{s.get('spec_code')} ({s.get('spec_id')})" for s in specs)
    fail(f"'{wanted}' is not a resource spec; the specs are: {codes}", "see `trainjobs specs`")


def resolve_engine(client: ApiClient, wanted: str) -> int:
    with handled():
        engines = client.ai_engines().get("engines", [])
    lowered = wanted.lower()
    for engine in engines:
        names = (engine.get("engine_id"), engine.get("engine_name"), engine.get("engine_version"))
        if lowered in (str(n).lower() for n in names):
            return int(engine["engine_id"])
    known = ", ".join(f"{e.get('engine_name')} {e.get('engine_version')}" for e in engines)
    fail(f"'{wanted}' is not an engine; the engines are: {known}", "see `trainjobs engines`")


def default_resources(client: ApiClient, job_id: int | None, config: dict[str, Any]) -> None:
    """For a job's first version (nothing to inherit): the first spec and one worker."""
    with handled():
        if job_id is not None and client.list_versions(job_id, page=1, per_page=1)["versions"]:
            return
        specs = client.resource_specs().get("specs", [])
    if specs and "spec_id" not in config:
        config["spec_id"] = int(specs[0]["spec_id"])
    config.setdefault("worker_server_num", 1)


def boot_file_url(code_dir: str | None, boot_file: str) -> str:
    if boot_file.startswith("/") or "://" in boot_file or not code_dir:
        return boot_file
    return code_dir.rstrip("/") + "/" + boot_file


def build_config(
    client: ApiClient,
    *,
    code_dir: str | None,
    boot_file: str | None,
    parameters: list[dict[str, str]] | None,
    user_image_url: str | None,
    user_command: str | None,
    engine: str | None,
    data_url: str | None,
    dataset_id: str | None,
    dataset_version_id: str | None,
    train_url: str | None,
    log_url: str | None,
    spec: str | None,
    pool: str | None,
    workers: int | None,
) -> dict[str, Any]:
    """The v1 ``config`` with only what was given, so the service fills in (or a new
    version inherits) the rest."""
    config: dict[str, Any] = {}
    if workers is not None:
        config["worker_server_num"] = workers
    if code_dir:
        config["app_url"] = code_dir
    if boot_file:
        config["boot_file_url"] = boot_file_url(code_dir, boot_file)
    if parameters is not None:
        config["parameter"] = parameters
    for key, value in (
        ("user_image_url", user_image_url),
        ("user_command", user_command),
        ("data_url", data_url),
        ("dataset_id", dataset_id),
        ("dataset_version_id", dataset_version_id),
        ("train_url", train_url),
        ("log_url", log_url),
        ("pool_id", pool),
    ):
        if value:
            config[key] = value
    if spec:
        config["spec_id"] = resolve_spec(client, spec)
    if engine:
        config["engine_id"] = resolve_engine(client, engine)
    return config


def parameters_or_none(items: list[str] | None) -> list[dict[str, str]] | None:
    return parse_parameters(items) if items else None


def wait_for_run(
    client: ApiClient, job_id: int, version_id: int, poll_s: float, wanted: set[int]
) -> int:
    """Show the run's status live until it ends; print the final status and duration
    and return the exit code: 0 when it ended in one of ``wanted``."""
    started = time.monotonic()
    line = StatusLine(err)
    try:
        with handled(), line, deferred_interrupts() as asked:
            final = wait_for_version(
                client, job_id, version_id, poll_s=poll_s, on_update=line, interrupted=asked
            )
    except KeyboardInterrupt:
        # Only the waiting ends: the run belongs to the service and goes on.
        err.print(
            f"stopped waiting; version {version_id} of job {job_id} goes on running.\n"
            f"Follow it with `trainjobs logs {job_id} {version_id} --follow`, "
            f"stop it with `trainjobs versions stop {job_id} {version_id}`."
        )
        return EXIT_INTERRUPTED
    line.finish(final, time.monotonic() - started)
    status = int(final["status"])
    if status in wanted:
        return 0
    err.print(
        f"[yellow]hint:[/yellow] the run ended {status_name(status)}: read its log with "
        f"`trainjobs logs {job_id} {version_id}`"
    )
    return EXIT_RUN_FAILED
