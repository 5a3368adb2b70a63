"""``trainjobs configs`` (training-job configurations) and ``trainjobs algorithms``."""

from __future__ import annotations

import json as jsonlib
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape

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
    fail,
    fmt_parameters,
    fmt_time,
    handled,
    print_json,
    print_result,
)
from trainjobs.cli.tables import Column, fitted
from trainjobs.sdk.client import ApiClient

app = typer.Typer(
    help="Create, list, show, update and delete training-job configurations.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)
algorithms_app = typer.Typer(
    help="The built-in algorithms a version runs with --algorithm.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)

ConfigName = Annotated[str, typer.Argument(metavar="NAME", help="Configuration name.")]
Algorithm = Annotated[
    str | None,
    typer.Option(
        help="Run a built-in algorithm (its model_id or name, see `trainjobs algorithms list`) "
        "instead of --code-dir/--boot-file.",
        rich_help_panel=runs.RUN,
    ),
]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Start from this training-job configuration; the options given override it.",
        rich_help_panel=runs.RUN,
    ),
]
Sample = Annotated[
    bool, typer.Option("--sample", help="The read-only sample configurations instead.")
]
# The fields of a configuration that make up a version's config.
VERSION_FIELDS = (
    "worker_server_num", "app_url", "boot_file_url", "model_id", "parameter", "spec_id",
    "data_url", "dataset_id", "dataset_version_id", "data_source", "engine_id", "train_url",
    "log_url", "user_image_url", "user_command", "pool_id", "volumes",
)  # fmt: skip
PROGRAM = ("app_url", "boot_file_url", "user_image_url", "user_command", "model_id")


def resolve_algorithm(client: ApiClient, wanted: str) -> int:
    with handled():
        models = client.built_in_algorithms().get("models", [])
    for model in models:
        if wanted.lower() in (str(model["model_id"]), str(model["model_name"]).lower()):
            return int(model["model_id"])
    known = ", ".join(f"{m['model_name']} ({m['model_id']})" for m in models)
    fail(
        f"'{wanted}' is not a built-in algorithm; they are: {known}",
        "see `trainjobs algorithms list`",
    )


def with_config(client: ApiClient, name: str | None, flags: dict[str, Any]) -> dict[str, Any]:
    """A version config: the named configuration's fields, overridden by the flags given."""
    if not name:
        return flags
    with handled():
        detail = client.get_config(name)
    base = {k: detail[k] for k in VERSION_FIELDS if detail.get(k) not in (None, "", 0, [])}
    if any(k in flags for k in PROGRAM):  # another program replaces the configuration's
        base = {k: v for k, v in base.items() if k not in (*PROGRAM, "engine_id")}
    return {**base, **flags}


@app.command(epilog=EXIT_CODES_HELP)
def create(
    name: ConfigName,
    algorithm: Algorithm = None,
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
    spec: runs.Spec = None,
    pool: runs.Pool = None,
    workers: Annotated[int, typer.Option(min=1, help=runs.WORKERS_HELP)] = 1,
    desc: Annotated[str | None, typer.Option(help="Description (0-256 characters).")] = None,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Save a version config under a name, for `jobs create --config NAME`.

    Example: trainjobs configs create cancer --algorithm tabular_classification
    --data-url obs://demo/cancer/ --param label_column=diagnosis
    """
    client = connect(endpoint, token, project_id, data_dir)
    body = _body(client, algorithm, code_dir, boot_file, param, user_image_url, user_command,
                 engine, data_url, dataset_id, dataset_version_id, train_url, log_url, spec,
                 pool, workers)  # fmt: skip
    if not spec and not pool:
        runs.default_resources(client, None, body)
    body["config_name"] = name
    if desc is not None:
        body["config_desc"] = desc
    with handled():
        result = client.create_config(body)
    print_result(result, json, f"created configuration {name}")


def _body(client: ApiClient, algorithm: str | None, *args: Any) -> dict[str, Any]:
    (code_dir, boot_file, param, user_image_url, user_command, engine, data_url, dataset_id,
     dataset_version_id, train_url, log_url, spec, pool, workers) = args  # fmt: skip
    body = runs.build_config(
        client, code_dir=code_dir, boot_file=boot_file,
        parameters=runs.parameters_or_none(param), user_image_url=user_image_url,
        user_command=user_command, engine=engine, data_url=data_url, dataset_id=dataset_id,
        dataset_version_id=dataset_version_id, train_url=train_url, log_url=log_url, spec=spec,
        pool=pool, workers=workers,
    )  # fmt: skip
    if algorithm:
        body["model_id"] = resolve_algorithm(client, algorithm)
    return body


@app.command("list", epilog=EXIT_CODES_HELP)
def list_configs(
    sample: Sample = False,
    search: Annotated[str | None, typer.Option(help="Only names containing this.")] = None,
    sort_by: Annotated[
        Literal["config_name", "config_desc", "create_time"], typer.Option(help="Sort key.")
    ] = "config_name",
    order: Annotated[Literal["asc", "desc"], typer.Option(help="Sort order.")] = "asc",
    page: Annotated[int, typer.Option(min=1, max=65535, help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=1000, help="Per page.")] = 10,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List the project's configurations (or the samples)."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.list_configs(
            per_page=per_page, page=page, sort_by=sort_by, order=order,
            search_content=search or None, config_type="sample" if sample else None,
        )  # fmt: skip
    if json:
        print_json(listed)
        return
    # The name is the key; the description wraps, then the rest goes first.
    columns = [
        Column("name"),
        Column("engine", drop=2),
        Column("created", drop=3),
        Column("desc", drop=1, wrap=True),
    ]
    rows = [
        [
            escape(str(c["config_name"])),
            escape(str(c.get("engine_name", ""))),
            fmt_time(c.get("create_time")),
            escape(str(c.get("config_desc", ""))),
        ]
        for c in listed.get("configs", [])
    ]
    console.print(fitted(console, columns, rows))
    console.print(f"{len(listed.get('configs', []))} of {listed.get('config_total_count', 0)}")


@app.command(epilog=EXIT_CODES_HELP)
def show(
    name: ConfigName,
    sample: Sample = False,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Show one configuration's fields."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        detail = client.request(
            "GET", f"{client.v1}/training-job-configs/{name}",
            params={"config_type": "sample" if sample else None},
        )  # fmt: skip
    if json:
        print_json(detail)
        return
    for key in ("config_name", "config_desc", *VERSION_FIELDS, "engine_name", "spec_code"):
        value = detail.get(key)
        if value in (None, "", 0, []):
            continue
        if key == "parameter":
            value = fmt_parameters(value)
        elif isinstance(value, list | dict):
            value = jsonlib.dumps(value)
        console.print(f"{key:20} {escape(str(value))}")


@app.command(epilog=EXIT_CODES_HELP)
def update(
    name: ConfigName,
    algorithm: Algorithm = None,
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
    spec: runs.Spec = None,
    pool: runs.Pool = None,
    workers: runs.Workers = None,
    desc: Annotated[str | None, typer.Option(help="Description (0-256 characters).")] = None,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Change the fields given; the others are kept."""
    client = connect(endpoint, token, project_id, data_dir)
    body = _body(client, algorithm, code_dir, boot_file, param, user_image_url, user_command,
                 engine, data_url, dataset_id, dataset_version_id, train_url, log_url, spec,
                 pool, workers)  # fmt: skip
    if desc is not None:
        body["config_desc"] = desc
    with handled():
        result = client.update_config(name, body)
    print_result(result, json, f"updated configuration {name}")


@app.command(epilog=EXIT_CODES_HELP)
def delete(
    name: ConfigName,
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Delete a configuration."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        result = client.delete_config(name)
    print_result(result, json, f"deleted configuration {name}")


@algorithms_app.command("list", epilog=EXIT_CODES_HELP)
def list_algorithms(
    json: Json = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """List the built-in algorithms and their parameters (docs/algorithms.md has more)."""
    client = connect(endpoint, token, project_id, data_dir)
    with handled():
        listed = client.request(
            "GET", f"{client.v1}/built-in-algorithms",
            params={"per_page": 100, "sortBy": "model_name", "order": "asc"},
        )  # fmt: skip
    if json:
        print_json(listed)
        return
    columns = [Column("id"), Column("name"), Column("parameters (* required)", drop=1, wrap=True)]
    rows = []
    for m in listed.get("models", []):
        params = jsonlib.loads(m.get("parameter") or "[]")
        text = " ".join(
            f"{p['label']}{'*' if p.get('required') else '=' + str(p.get('value', ''))}"
            for p in params
        )
        rows.append([str(m["model_id"]), escape(str(m["model_name"])), escape(text)])
    console.print(fitted(console, columns, rows))
