"""``trainjobs obs``: copy code and data in and out of the object store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trainjobs.objectstore import ObjectStore, ObsPath, location, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.objectstore.store import PROJECT_ID, StoreUnavailable
from trainjobs.sdk.discovery import ENV_PROJECT_ID, read_credentials_file
from trainjobs.sdk.errors import CredentialsNotFound
from trainjobs.settings import DEFAULT_DATA_DIR

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
    """The project's namespace of the store the service in ``data_dir`` uses."""
    project = project_id or os.environ.get(ENV_PROJECT_ID) or ""
    if not project:
        try:
            project = read_credentials_file(data_dir).get("project_id", "")
        except CredentialsNotFound as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(3) from exc
    if not PROJECT_ID.match(project):
        err.print(
            f"[red]error:[/red] no project to work in: {data_dir / 'credentials.json'} is missing "
            "(start `trainjobs serve` once), or pass --project-id / set TRAINJOBS_PROJECT_ID"
        )
        raise typer.Exit(3)
    where = location.for_clients(data_dir)
    try:
        root = ObjectStore.from_url(where.url, endpoint=where.endpoint)
    except (StoreUnavailable, ValueError) as exc:
        err.print(f"[red]error:[/red] object store {escape(where.url)}: {escape(str(exc))}")
        raise typer.Exit(3) from exc
    return root.for_project(project)


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
            count = store.upload(local, rdst)
        elif rsrc is not None and rdst is None:
            count = store.download(rsrc, Path(dst))
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
