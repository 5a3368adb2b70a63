"""``trainjobs projects`` and ``trainjobs users``: identities, kept in the data dir's database.

These commands work on the database directly (the service need not run), like
``trainjobs obs`` works on the object store. Secrets (a password, a secret
key) are shown once, when made, and never again: the store keeps a slow hash
of the password, and the secret key only where the signature check needs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from trainjobs.domain.account_names import DEFAULT_DOMAIN, DEFAULT_PROJECT
from trainjobs.settings import DEFAULT_DATA_DIR, Settings

if TYPE_CHECKING:
    from trainjobs.store.database import Database

# The database layer (SQLAlchemy, Alembic) loads only when one of these commands
# runs: every other command, and --help, start without it.

projects_app = typer.Typer(help="Create and list projects.", no_args_is_help=True)
users_app = typer.Typer(
    help="Create, list and delete users, with their passwords and access keys (AK/SK).",
    no_args_is_help=True,
)
tokens_app = typer.Typer(help="Rotate the default project's token.", no_args_is_help=True)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_REFUSED = 1  # a name taken or invalid, something named that does not exist

DataDir = Annotated[
    Path,
    typer.Option(envvar="TRAINJOBS_DATA_DIR", help="The service's data folder."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Domain = Annotated[str, typer.Option(help="The user's domain (the account name IAM clients send).")]


@contextmanager
def _database(data_dir: Path) -> Iterator[Database]:
    from trainjobs.domain import errors
    from trainjobs.store.database import Database

    settings = Settings.from_env(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url, settings.resolved_secret_key_file)
    try:
        db.migrate()  # a no-op when the service already brought the schema up
        yield db
    except errors.DomainError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(EXIT_REFUSED) from exc
    finally:
        db.dispose()


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


# -- projects -------------------------------------------------------------------


@projects_app.command("create")
def create_project(
    name: Annotated[str, typer.Argument(help="Project name, unique in the deployment.")],
    quota: Annotated[
        int | None, typer.Option(help="Most jobs the project may hold.", show_default="10000")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    as_json: AsJson = False,
) -> None:
    """Create a project; its id goes in /v1/{project_id}/... URLs."""
    from trainjobs.domain import accounts

    with _database(data_dir) as db:
        job_quota = quota if quota is not None else Settings.from_env().job_quota
        project = accounts.create_project(db, name, job_quota)
    if as_json:
        _print_json({"id": project.id, "name": project.name, "job_quota": job_quota})
        return
    console.print(f"created project {project.name}  id: {project.id}")


@projects_app.command("list")
def list_projects(data_dir: DataDir = DEFAULT_DATA_DIR, as_json: AsJson = False) -> None:
    """List every project."""
    from trainjobs.domain import accounts

    with _database(data_dir) as db:
        projects = accounts.list_projects(db)
    if as_json:
        _print_json([{"id": p.id, "name": p.name, "job_quota": quota} for p, quota in projects])
        return
    table = Table("name", "id", "job quota", box=None)
    for project, quota in projects:
        table.add_row(project.name, project.id, str(quota))
    console.print(table)


# -- users ----------------------------------------------------------------------


@users_app.command("create")
def create_user(
    name: Annotated[str, typer.Argument(help="User name, unique in its domain.")],
    project: Annotated[
        list[str] | None,
        typer.Option(
            "--project",
            "-p",
            help="A project (id or name) the user may work in; repeat for more.",
            show_default=DEFAULT_PROJECT,
        ),
    ] = None,
    domain: Domain = DEFAULT_DOMAIN,
    password: Annotated[
        str | None,
        typer.Option(
            help="The password (at least 8 characters). Without it, one is made up and "
            "shown once; --prompt-password asks for it instead.",
            show_default=False,
        ),
    ] = None,
    prompt_password: Annotated[
        bool, typer.Option("--prompt-password", help="Ask for the password, hidden.")
    ] = False,
    with_aksk: Annotated[
        bool,
        typer.Option("--with-aksk", help="Also issue an access key (AK) and secret key (SK)."),
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    as_json: AsJson = False,
) -> None:
    """Create a user; its password (and with --with-aksk its AK/SK) is shown once."""
    from trainjobs.domain import accounts

    if prompt_password and password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database(data_dir) as db:
        made = accounts.create_user(
            db,
            domain,
            name,
            project or [DEFAULT_PROJECT],
            password=password,
            with_access_key=with_aksk,
        )
    shown: dict[str, Any] = {
        "id": made.user.id,
        "domain": made.user.domain,
        "name": made.user.name,
        "projects": [{"id": p.id, "name": p.name} for p in made.projects],
    }
    if password is None:
        shown["password"] = made.password
    if made.access_key:
        shown["access_key"] = made.access_key
        shown["secret_key"] = made.secret_key
    if as_json:
        _print_json(shown)
        return
    projects = ", ".join(f"{p.name} ({p.id})" for p in made.projects)
    console.print(f"created user {made.user.domain}/{made.user.name}  id: {made.user.id}")
    console.print(f"projects: {projects}")
    # Plain echo, never wrapped or styled: these lines are meant to be copied.
    if "password" in shown:
        typer.echo(f"password: {made.password}")
    if made.access_key:
        typer.echo(f"access key (AK): {made.access_key}")
        typer.echo(f"secret key (SK): {made.secret_key}")
    if "password" in shown or made.access_key:
        err.print("[yellow]These secrets are shown only now: store them safely.[/yellow]")


@users_app.command("list")
def list_users(data_dir: DataDir = DEFAULT_DATA_DIR, as_json: AsJson = False) -> None:
    """List every user with its projects and access key ids (never secrets)."""
    from trainjobs.domain import accounts

    with _database(data_dir) as db:
        found = accounts.list_users(db)
    if as_json:
        _print_json(
            [
                {
                    "id": s.user.id,
                    "domain": s.user.domain,
                    "name": s.user.name,
                    "projects": [{"id": p.id, "name": p.name} for p in s.projects],
                    "access_keys": list(s.access_keys),
                }
                for s in found
            ]
        )
        return
    table = Table("domain", "name", "id", "projects", "access keys", box=None)
    for s in found:
        table.add_row(
            s.user.domain,
            s.user.name,
            s.user.id,
            ", ".join(p.name for p in s.projects),
            ", ".join(s.access_keys),
        )
    console.print(table)


@users_app.command("delete")
def delete_user(
    name: Annotated[str, typer.Argument(help="User name.")],
    domain: Domain = DEFAULT_DOMAIN,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Delete a user; its access keys and tokens stop working at once."""
    from trainjobs.domain import accounts

    with _database(data_dir) as db:
        user = accounts.delete_user(db, domain, name)
    console.print(f"deleted user {user.domain}/{user.name}")


# -- tokens ---------------------------------------------------------------------


@tokens_app.command("rotate")
def rotate_token(data_dir: DataDir = DEFAULT_DATA_DIR, as_json: AsJson = False) -> None:
    """Replace the default project's token in credentials.json; the old one stops working."""
    from trainjobs.domain import bootstrap

    with _database(data_dir) as db:
        credentials = bootstrap.rotate_default_token(db, data_dir)
    path = data_dir / bootstrap.CREDENTIALS_FILE
    if as_json:
        _print_json({"project_id": credentials["project_id"], "credentials": str(path)})
    else:
        console.print(f"rotated the default project's token; the new one is in {path}")
