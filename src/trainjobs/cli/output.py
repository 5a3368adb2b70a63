"""What the API commands share: connection options, printing, and turning failures into
a message, a hint and an exit code (never a traceback)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from trainjobs.sdk.client import ApiClient
from trainjobs.sdk.discovery import ENV_DATA_DIR, ENV_ENDPOINT, ENV_PROJECT_ID, ENV_TOKEN
from trainjobs.sdk.errors import NO_CREDENTIALS, UNREACHABLE, ModelArtsError
from trainjobs.sdk.progress import format_duration
from trainjobs.sdk.statuses import NAMES, status_name

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_FAILED = 1  # the service refused the call, or something named does not exist
EXIT_USAGE = 2  # bad arguments (typer's own code for usage errors)
EXIT_UNREACHABLE = 3  # no service at the endpoint, or no credentials to call it with
EXIT_RUN_FAILED = 4  # --wait / --follow: the run ended in a status other than the one wanted
EXIT_INTERRUPTED = 130  # Ctrl-C while waiting, as shells report SIGINT

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 the service refused the call; 2 bad usage; "
    "3 service unreachable or no credentials; 4 the run did not complete (with --wait/--follow); "
    "130 interrupted while waiting (the run goes on)."
)

CONNECTION = "Connection (found automatically when not given)"

Endpoint = Annotated[
    str | None,
    typer.Option(
        envvar=ENV_ENDPOINT,
        show_envvar=True,
        help="URL of the service.",
        show_default="from credentials.json, else http://127.0.0.1:8080",
        rich_help_panel=CONNECTION,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        envvar=ENV_TOKEN,
        show_envvar=True,
        help="API token.",
        show_default="from credentials.json",
        rich_help_panel=CONNECTION,
    ),
]
ProjectId = Annotated[
    str | None,
    typer.Option(
        envvar=ENV_PROJECT_ID,
        show_envvar=True,
        help="Project ID.",
        show_default="from credentials.json",
        rich_help_panel=CONNECTION,
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        envvar=ENV_DATA_DIR,
        show_envvar=True,
        help="Data dir of `trainjobs serve`, with credentials.json.",
        show_default="./trainjobs-data",
        rich_help_panel=CONNECTION,
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print the service's JSON response unchanged, for scripts."),
]

# What to do about each failure, by code: the service's message says what was wrong.
HINTS: dict[str, str] = {
    UNREACHABLE: "start it with `trainjobs serve`, or point --endpoint / TRAINJOBS_ENDPOINT at it.",
    NO_CREDENTIALS: "run `trainjobs serve` once to create credentials.json, or set "
    "TRAINJOBS_TOKEN and TRAINJOBS_PROJECT_ID.",
    "ModelArts.0201": "pass --token or set TRAINJOBS_TOKEN (the token is in credentials.json).",
    "ModelArts.0202": "the token has expired: use the one in the data dir's credentials.json.",
    "ModelArts.0203": "check --token / TRAINJOBS_TOKEN against the data dir's credentials.json.",
    "ModelArts.0210": "the token is for another project: check --project-id / "
    "TRAINJOBS_PROJECT_ID.",
    "ModelArts.2775": "check the IDs with `trainjobs jobs list` and `trainjobs versions list JOB`.",
    "ModelArts.2818": "list the version's log files with `trainjobs logs JOB VERSION --list`.",
    "ModelArts.2796": "the version is not in a status that allows this: see "
    "`trainjobs versions show JOB VERSION`.",
    "ModelArts.0103": "choose another job name, or delete the old job: `trainjobs jobs delete`.",
    "ModelArts.0104": "check the values given; `--help` describes each option.",
    "ModelArts.0118": "the job quota is reached: delete jobs you no longer need.",
    "ModelArts.2780": "see the engines with `trainjobs engines`.",
    "ModelArts.2781": "see the resource specs with `trainjobs specs`.",
    "ModelArts.2793": "use fewer workers: `trainjobs specs` shows each spec's max_num.",
    "ModelArts.2757": "upload the code folder first: `trainjobs obs cp ./code obs://bucket/code/`.",
    "ModelArts.2758": "the boot file must be inside the code folder in the store: "
    "`trainjobs obs ls obs://bucket/code/`.",
    "ModelArts.2791": "write store paths as /bucket/folder/ or obs://bucket/folder/.",
    "ModelArts.2806": "a custom image needs both --user-image-url and --user-command.",
    "ModelArts.2836": "this service has no such endpoint: is the endpoint a trainjobs service?",
    "ModelArts.0010": "the service hit an unexpected fault; its log has the details.",
}


def hint_for(code: str) -> str:
    return HINTS.get(code, "")


def report(exc: ModelArtsError) -> int:
    """Print a failure as ``error: ...`` and ``hint: ...``; return the exit code for it."""
    where = f"HTTP {exc.http_status}, " if exc.http_status else ""
    err.print(f"[red]error[/red] ({where}{escape(exc.error_code)}): {escape(exc.error_message)}")
    hint = hint_for(exc.error_code)
    if hint:
        err.print(f"[yellow]hint:[/yellow] {escape(hint)}")
    if exc.http_status == 0 and exc.error_code in (UNREACHABLE, NO_CREDENTIALS):
        return EXIT_UNREACHABLE
    return EXIT_FAILED


def fail(message: str, hint: str = "", code: int = EXIT_FAILED) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    if hint:
        err.print(f"[yellow]hint:[/yellow] {escape(hint)}")
    raise typer.Exit(code)


@contextmanager
def deferred_interrupts() -> Iterator[threading.Event]:
    """Ctrl-C while polling: the event is set, and the poll loop ends at its next
    pause, between two requests. Raised inside a request, the interrupt could leave
    the HTTP client's connection pool locked, and closing the client would then
    wait forever. A second Ctrl-C interrupts at once."""
    asked = threading.Event()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def handled() -> Iterator[None]:
    """Turn a ``ModelArtsError`` into a message and an exit code."""
    try:
        yield
    except ModelArtsError as exc:
        raise typer.Exit(report(exc)) from None


def connect(
    endpoint: str | None, token: str | None, project_id: str | None, data_dir: Path | None
) -> ApiClient:
    with handled():
        return ApiClient.discover(endpoint, token, project_id, data_dir)


def print_json(body: Any) -> None:
    # Plain print, not rich: the text must stay exactly what json.loads reads back.
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


def print_result(body: Any, json: bool, message: str) -> None:
    """An action's outcome: the service's JSON for scripts, one line for people."""
    if json:
        print_json(body)
    else:
        console.print(message)


def fmt_time(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(int(ms) / 1000).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(ms: int | None) -> str:
    return format_duration(int(ms or 0))


def fmt_status(code: int) -> str:
    name = status_name(int(code))
    style = {
        "COMPLETED": "green",
        "RUNNING": "cyan",
        "FAILED": "red",
        "KILLED": "yellow",
        "CANCELED": "yellow",
        "LOST": "red",
    }.get(name)
    return f"[{style}]{name}[/{style}]" if style else name


def fmt_parameters(parameters: list[dict[str, Any]]) -> str:
    return " ".join(f"{p.get('label')}={p.get('value')}" for p in parameters)


def accuracy(model_metric_list: str) -> str:
    """The overall accuracy a run reported, for comparing versions at a glance."""
    try:
        values = json.loads(model_metric_list or "{}")["total_metric"]["total_metric_values"]
    except (ValueError, KeyError, TypeError):
        return ""
    value = values.get("accuracy") if isinstance(values, dict) else None
    return f"{value:.4f}" if isinstance(value, int | float) else ""


def parse_statuses(text: str) -> str:
    """``running,failed`` or ``8,11`` to the comma list of codes the service filters by."""
    by_name = {name.lower(): code for code, name in NAMES.items()}
    codes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.isdigit():
            codes.append(part)
        elif part.lower() in by_name:
            codes.append(str(by_name[part.lower()]))
        else:
            fail(
                f"'{part}' is not a status",
                "use a code (0-22) or a name such as running, completed, failed",
                EXIT_USAGE,
            )
    return ",".join(codes)


def parse_parameters(items: list[str]) -> list[dict[str, str]]:
    """``--param label=value`` options to the v1 ``parameter`` list, in order given."""
    result: dict[str, str] = {}
    for item in items:
        label, sep, value = item.partition("=")
        if not sep or not label.strip():
            fail(
                f"--param '{item}' is not label=value", "write it like --param lr=0.01", EXIT_USAGE
            )
        result[label.strip()] = value
    return [{"label": k, "value": v} for k, v in result.items()]
