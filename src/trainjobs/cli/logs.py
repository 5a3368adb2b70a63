"""``trainjobs logs``: print a version's log, or follow it while the run goes on."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from trainjobs.cli import runs
from trainjobs.cli.output import (
    EXIT_RUN_FAILED,
    EXIT_USAGE,
    DataDir,
    Endpoint,
    ProjectId,
    Token,
    connect,
    console,
    deferred_interrupts,
    err,
    fail,
    handled,
    print_json,
)
from trainjobs.sdk.progress import final_line
from trainjobs.sdk.statuses import COMPLETED, is_terminal
from trainjobs.sdk.watch import LOG_PAGE_LINES, first_log_file, read_log


def logs(
    job_id: Annotated[int, typer.Argument(min=1, metavar="JOB", help="Job ID.")],
    version_id: Annotated[int, typer.Argument(min=1, metavar="VERSION", help="Version ID.")],
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Log file to read, as --list shows them.",
            show_default="the first worker's, <job>-<version>.0",
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep printing new lines until the run ends; exit 4 unless it COMPLETED.",
        ),
    ] = False,
    tail: Annotated[
        int | None,
        typer.Option(
            min=1, max=LOG_PAGE_LINES, help="Print only the last N lines (then follow, if asked)."
        ),
    ] = None,
    list_files: Annotated[
        bool, typer.Option("--list", help="List the version's log files, one per worker.")
    ] = False,
    poll_interval: runs.PollInterval = 0.5,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the service's JSON unchanged: the file list with --list, the page "
            "of lines with --tail.",
        ),
    ] = False,
    endpoint: Endpoint = None,
    token: Token = None,
    project_id: ProjectId = None,
    data_dir: DataDir = None,
) -> None:
    """Print a version's log from its first line (one file: a worker's).

    Example: trainjobs logs 12 34 --follow
    """
    if json and not (list_files or tail):
        fail("--json needs --list or --tail", "the whole log prints as text", EXIT_USAGE)
    if json and follow:
        fail("--json cannot be used with --follow", code=EXIT_USAGE)
    client = connect(endpoint, token, project_id, data_dir)
    if list_files:
        with handled():
            listed = client.log_file_names(job_id, version_id)
        if json:
            print_json(listed)
        else:
            for name in listed.get("log_file_list", []):
                console.print(name)
        return
    with handled():
        log_file = file or first_log_file(client, job_id, version_id)
    after = 0
    if tail:
        with handled():
            page = client.aom_log(job_id, version_id, log_file, lines=tail, base_line="")
        if json:
            print_json(page)
            return
        _write(str(page.get("content") or ""))
        after = int(page.get("end_line") or 0)
        if not follow:
            return
    last: dict[str, object] = {}

    def remember(version: dict[str, object], _elapsed: float) -> None:
        last.update(version)

    with handled(), deferred_interrupts() as asked:
        for text in read_log(
            client,
            job_id,
            version_id,
            log_file,
            follow=follow,
            poll_s=poll_interval,
            on_update=remember,
            after_line=after,
            interrupted=asked,
        ):
            _write(text)
    if follow and last and is_terminal(int(str(last["status"]))):
        status = int(str(last["status"]))
        style = "green" if status == COMPLETED else "red"
        err.print(f"[{style}]{final_line(dict(last))}[/{style}]")
        if status != COMPLETED:
            raise typer.Exit(EXIT_RUN_FAILED)


def _write(text: str) -> None:
    # Log text goes out as it is: no markup, no wrapping, flushed so a pipe sees it live.
    if not text:
        return
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
