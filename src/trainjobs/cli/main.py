"""``trainjobs``: run the service and work with its object store."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from trainjobs.cli import (
    catalog,
    configs,
    history,  # noqa: F401 - adds rerun and diff to `versions`
    jobs,
    logs,
    obs,
    versions,
    visualization,
)
from trainjobs.cli import identity as identity_cli
from trainjobs.cli.output import EXIT_CODES_HELP
from trainjobs.objectstore import ObjectStore, location
from trainjobs.objectstore.store import StoreUnavailable
from trainjobs.settings import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


app = typer.Typer(
    name="trainjobs",
    help="A self-hosted training-job service with the ModelArts v1 training API.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(obs.app, name="obs")
app.add_typer(identity_cli.projects_app, name="projects")
app.add_typer(identity_cli.users_app, name="users")
app.add_typer(identity_cli.tokens_app, name="tokens")
app.add_typer(jobs.app, name="jobs")
app.add_typer(versions.app, name="versions")
app.add_typer(configs.app, name="configs")
app.add_typer(configs.algorithms_app, name="algorithms")
app.add_typer(visualization.app, name="viz")
app.command("logs", epilog=EXIT_CODES_HELP)(logs.logs)
app.command("specs", epilog=EXIT_CODES_HELP)(catalog.specs)
app.command("engines", epilog=EXIT_CODES_HELP)(catalog.engines)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    s3_port: Annotated[
        int | None,
        typer.Option(
            envvar="TRAINJOBS_S3_PORT",
            help="Port of the S3-compatible object endpoint (0: any free one).  "
            "[default: PORT + 1]",
        ),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(
            envvar="TRAINJOBS_DATA_DIR",
            help="Folder for the database, object store, run folders and credentials.json.",
        ),
    ] = DEFAULT_DATA_DIR,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="TRAINJOBS_DATABASE_URL",
            help="The database, as a SQLAlchemy URL, e.g. "
            "postgresql+psycopg://user:password@host:5432/trainjobs (several servers may "
            "share one).  [default: SQLite in DATA_DIR]",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(help="Where versions run: local (this machine) or ray.  [default: local]"),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="The Ray cluster to run on (its GCS address).  [default: auto]"),
    ] = None,
    shared_storage: Annotated[
        bool | None,
        typer.Option(
            "--shared-storage/--no-shared-storage",
            help="Every Ray node mounts the data dir at the same path; without it each node "
            "stages runs from the object store through the object endpoint.",
        ),
    ] = None,
    object_store_url: Annotated[
        str | None,
        typer.Option(
            envvar="TRAINJOBS_OBJECT_STORE_URL",
            help="Where objects live: a folder, s3://BUCKET or s3://BUCKET/PREFIX (credentials "
            "from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or OBS_ACCESS_KEY_ID/"
            "OBS_SECRET_ACCESS_KEY).  [default: DATA_DIR/obs]",
        ),
    ] = None,
    obs_endpoint: Annotated[
        str | None,
        typer.Option(
            envvar="TRAINJOBS_OBS_ENDPOINT",
            help="The S3-compatible service's URL (OBS, MinIO, Ceph), e.g. http://HOST:9000.",
        ),
    ] = None,
    no_sandbox: Annotated[
        bool,
        typer.Option(
            "--no-sandbox",
            envvar="TRAINJOBS_NO_SANDBOX",
            help="DANGEROUS: run workers without the bubblewrap sandbox, with the server's own "
            "rights (they can read the database, credentials.json and every project's data).",
        ),
    ] = False,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            envvar="TRAINJOBS_LOG_LEVEL",
            case_sensitive=False,
            help="Least severe log lines written to stderr: info shows one line per "
            "request (Combined Log Format) and per version status change.",
        ),
    ] = LogLevel.INFO,
) -> None:
    """Start the service on the embedded defaults (SQLite, local object store, local runs)."""
    import dataclasses

    from trainjobs import serving
    from trainjobs.app import sandbox_policy
    from trainjobs.executors import sandbox

    settings = Settings.from_env(
        host=host,
        port=port,
        s3_port=s3_port,
        data_dir=data_dir,
        database_url=database_url,
        executor=executor,
        ray_address=ray_address,
        shared_storage=shared_storage,
        object_store_url=object_store_url,
        obs_endpoint=obs_endpoint,
        sandbox=False if no_sandbox else None,
    )
    problem = (
        _sandbox_problem(settings)
        or _executor_problem(settings)
        or _store_problem(settings)
        or _database_problem(settings)
        or _secret_key_problem(settings)
    )
    if problem:
        typer.echo(f"trainjobs: {problem}", err=True)
        raise typer.Exit(2)
    try:
        object_socket = serving.bind(host, settings.resolved_s3_port)
    except OSError as exc:
        typer.echo(
            f"trainjobs: cannot listen on {host}:{settings.resolved_s3_port} for the object "
            f"endpoint ({exc.strerror}): choose another --s3-port (0: any free one)",
            err=True,
        )
        raise typer.Exit(2) from exc
    settings = dataclasses.replace(settings, s3_port=object_socket.getsockname()[1])
    # The CLI and SDK beside this server read it to reach the same store.
    location.record(settings.data_dir, settings.object_store_url, settings.obs_endpoint)
    typer.echo(f"trainjobs {settings.endpoint}  data: {settings.data_dir.resolve()}")
    if settings.executor == "ray":
        typer.echo(f"executor: ray at {settings.ray_address}")
    if settings.object_store_url:
        typer.echo(f"object store: {settings.object_store_url}  {settings.obs_endpoint}".rstrip())
    typer.echo(f"object endpoint (S3): {settings.object_endpoint_url}")
    typer.echo(f"credentials: {(settings.data_dir / 'credentials.json').resolve()}")
    typer.echo(f"sandbox: {sandbox.describe(sandbox_policy(settings))}")
    logging.basicConfig(level=log_level.value.upper(), format=LOG_FORMAT, force=True)
    serving.serve(settings, object_socket)


def _sandbox_problem(settings: Settings) -> str:
    """Why workers cannot be sandboxed, and how to fix it; "" if they can (or the operator
    turned the sandbox off)."""
    from trainjobs.app import sandbox_policy
    from trainjobs.executors import sandbox

    why = sandbox.problem(sandbox_policy(settings))
    return f"no sandbox for runs: {why}" if why else ""


def _executor_problem(settings: Settings) -> str:
    """Why ``serve`` must not start with this executor configuration; "" if it may."""
    if settings.executor == "local":
        return ""
    if settings.executor != "ray":
        return f"unknown executor {settings.executor!r}: choose local or ray"
    from trainjobs.executors.ray import refusal, unreachable  # imports no Ray

    return refusal() or unreachable(settings.ray_address)


def _database_problem(settings: Settings) -> str:
    """Why ``serve`` cannot reach its database; "" if it can."""
    import sqlalchemy as sa

    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        return ""  # a file the service creates in its data dir
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except ModuleNotFoundError as exc:
        return f"the database driver {exc.name} is missing: pip install 'trainjobs[postgres]'"
    except sa.exc.SQLAlchemyError as exc:
        where = sa.engine.make_url(url).render_as_string(hide_password=True)
        return f"cannot open the database {where}: {exc.__class__.__name__}: {exc.args[0]}"
    return ""


def _secret_key_problem(settings: Settings) -> str:
    """Why the key that seals stored secret keys cannot be had; "" if it can."""
    from trainjobs.store.secretbox import SecretKeyError, load_or_create_key

    try:
        load_or_create_key(settings.resolved_secret_key_file)
    except (SecretKeyError, OSError) as exc:
        return f"{exc} (set TRAINJOBS_SECRET_KEY_FILE to the service's key file)"
    return ""


def _store_problem(settings: Settings) -> str:
    """Why ``serve`` cannot use the configured object store; "" if it can."""
    try:
        ObjectStore.from_url(
            settings.resolved_object_store_url, endpoint=settings.obs_endpoint
        ).check()
    except (StoreUnavailable, ValueError) as exc:
        return f"object store {settings.resolved_object_store_url}: {exc}"
    return ""


if __name__ == "__main__":
    app()
