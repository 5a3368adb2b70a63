"""``trainjobs obs``: copy code and data in and out of the object store."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from fsspec.callbacks import Callback
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from trainjobs.objectstore import ObjectStore, ObsPath, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.objectstore.store import PROJECT_ID, StoreUnavailable
from trainjobs.sdk.discovery import ENV_PROJECT_ID, read_credentials_file
from trainjobs.sdk.errors import CredentialsNotFound
from trainjobs.sdk.object_access import Access, beside_server, open_store
from trainjobs.settings import DEFAULT_DATA_DIR

# Transfers at least this large show a progress bar (on a terminal).
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
CAT_CHUNK_BYTES = 1024 * 1024

app = typer.Typer(
    help="Copy, list and remove objects. Store paths are written obs://bucket/key "
    "(or s3://bucket/key); anything else is a local path.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option(envvar="TRAINJOBS_DATA_DIR", help="The service's data folder."),
]
ProjectId = Annotated[
    str | None,
    typer.Option(
        help="The project whose objects to use (default: TRAINJOBS_PROJECT_ID, then the "
        "data folder's credentials.json)."
    ),
]


def _store(data_dir: Path, project_id: str | None) -> ObjectStore:
    """The project's namespace: the store of the service in ``data_dir`` when it is on
    this machine, else the service's object endpoint (see ``sdk/object_access.py``)."""
    project = project_id or os.environ.get(ENV_PROJECT_ID) or ""
    try:
        if not project:
            project = read_credentials_file(data_dir).get("project_id", "")
        if beside_server(data_dir) and not PROJECT_ID.match(project):
            err.print(
                "[red]error:[/red] no project to work in: pass --project-id or set "
                "TRAINJOBS_PROJECT_ID to a project id"
            )
            raise typer.Exit(3)
        return open_store(Access(data_dir=data_dir, project_id=project))
    except (CredentialsNotFound, StoreUnavailable, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(3) from exc


class _Bar(Callback):  # type: ignore[misc]
    """Advances one rich task by the bytes fsspec reports, file after file."""

    def __init__(self, progress: Progress, task: Any) -> None:
        super().__init__()
        self.progress = progress
        self.task = task

    def set_size(self, size: int) -> None:
        pass  # the task's total covers every file of the transfer

    def relative_update(self, inc: int = 1) -> None:
        self.progress.advance(self.task, inc)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callback | None]:
    if total < PROGRESS_MIN_BYTES or not err.is_terminal:
        yield None
        return
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        yield _Bar(progress, progress.add_task(label, total=total))


def _local_size(local: Path) -> int:
    if local.is_file():
        return local.stat().st_size
    return sum(p.stat().st_size for p in local.rglob("*") if p.is_file())


def _remote(text: str) -> ObsPath | None:
    if text.lower().startswith(("obs://", "s3://")):
        try:
            return parse_obs_path(text)
        except InvalidObsPath as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    return None


@app.command()
def cp(
    src: Annotated[str, typer.Argument(help="Local path or obs://bucket/key.")],
    dst: Annotated[str, typer.Argument(help="Local path or obs://bucket/key.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    project_id: ProjectId = None,
) -> None:
    """Copy a file or a folder (recursively) into, out of, or within the store."""
    store = _store(data_dir, project_id)
    rsrc, rdst = _remote(src), _remote(dst)
    try:
        if rsrc is None and rdst is None:
            err.print("[red]error:[/red] one side must be a store path (obs://bucket/key)")
            raise typer.Exit(2)
        if rsrc is None and rdst is not None:
            local = Path(src)
            if not local.exists():
                err.print(f"[red]error:[/red] {src} does not exist")
                raise typer.Exit(1)
            with _progress(_local_size(local), "upload") as callback:
                count = store.upload(local, rdst, callback)
        elif rsrc is not None and rdst is None:
            with _progress(store.size(rsrc) if not store.is_local else 0, "download") as callback:
                count = store.download(rsrc, Path(dst), callback)
        else:
            assert rsrc is not None and rdst is not None
            count = store.copy(rsrc, rdst)
    except OSError as exc:  # not found, and a remote store's refusals
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"copied {count} file(s): {src} -> {dst}")


@app.command()
def ls(
    path: Annotated[str, typer.Argument(help="obs://bucket/key")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    project_id: ProjectId = None,
) -> None:
    """List a folder of the store (its buckets when no path is given)."""
    store = _store(data_dir, project_id)
    try:
        entries = store.ls(_remote(path) or parse_obs_path(path)) if path else store.buckets()
    except (OSError, InvalidObsPath) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    table = Table("path", "size", box=None)
    for entry in entries:
        table.add_row(
            entry.path + ("/" if entry.is_dir else ""), "" if entry.is_dir else str(entry.size)
        )
    console.print(table)


@app.command()
def rm(
    path: Annotated[str, typer.Argument(help="obs://bucket/key")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    project_id: ProjectId = None,
) -> None:
    """Remove a file or a folder (recursively) from the store."""
    store = _store(data_dir, project_id)
    try:
        target = _remote(path) or parse_obs_path(path)
        store.rm(target)
    except (OSError, InvalidObsPath) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"removed {path}")


@app.command()
def cat(
    path: Annotated[str, typer.Argument(help="obs://bucket/key")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    project_id: ProjectId = None,
) -> None:
    """Write an object's bytes to standard output."""
    store = _store(data_dir, project_id)
    try:
        target = _remote(path) or parse_obs_path(path)
        if not store.is_file(target):
            raise FileNotFoundError(f"{path} is not an object in the store")
        with store.fs.open(target.fs_path, "rb") as source:
            while chunk := source.read(CAT_CHUNK_BYTES):
                sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    except (OSError, InvalidObsPath) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
