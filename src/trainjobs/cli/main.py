"""``trainjobs``: run the service and work with its object store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainjobs.cli import obs
from trainjobs.settings import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, Settings

app = typer.Typer(
    name="trainjobs",
    help="A self-hosted training-job service with the ModelArts v1 training API.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(obs.app, name="obs")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    data_dir: Annotated[
        Path,
        typer.Option(
            envvar="TRAINJOBS_DATA_DIR",
            help="Folder for the database, object store, run folders and credentials.json.",
        ),
    ] = DEFAULT_DATA_DIR,
) -> None:
    """Start the service on the embedded defaults (SQLite, local object store, local runs)."""
    import uvicorn

    from trainjobs.app import create_app

    settings = Settings.from_env(host=host, port=port, data_dir=data_dir)
    typer.echo(f"trainjobs {settings.endpoint}  data: {settings.data_dir.resolve()}")
    typer.echo(f"credentials: {(settings.data_dir / 'credentials.json').resolve()}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    app()
