"""Structural rules: the layers stay apart, every error has its code, the schema has no drift."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trainjobs.api.errors import CODES
from trainjobs.domain import errors
from trainjobs.store.database import Database
from trainjobs.store.tables import metadata

SRC = Path(__file__).resolve().parent.parent / "src" / "trainjobs"


def _imports(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(SRC))] = names
    return found


def test_domain_knows_nothing_of_http() -> None:
    for path, names in _imports(SRC / "domain").items():
        assert not names & {"fastapi", "starlette", "uvicorn", "httpx"}, path
        assert not any(n.startswith("trainjobs.api") for n in names), path


def test_executors_know_nothing_of_http_or_sql() -> None:
    for path, names in _imports(SRC / "executors").items():
        assert not names & {"fastapi", "starlette", "sqlalchemy", "alembic"}, path
        assert not any(
            n.startswith(("trainjobs.api", "trainjobs.store", "trainjobs.domain")) for n in names
        ), path


def test_wire_strings_live_only_in_the_api_layer() -> None:
    wire = re.compile(r"is_success|ModelArts\.\d{4}|JOBSTAT_")
    for folder in ("domain", "store", "executors", "objectstore"):
        for path in (SRC / folder).rglob("*.py"):
            assert not wire.search(path.read_text()), path


def test_every_domain_error_has_an_http_status_and_code() -> None:
    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    for cls in subclasses(errors.DomainError):
        assert cls in CODES, f"{cls.__name__} has no entry in api.errors.CODES"
        status, code = CODES[cls]
        assert 400 <= status < 500
        assert re.fullmatch(r"ModelArts\.\d{4}", code)


def test_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'schema.db'}")
    db.migrate()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    db.migrate()  # idempotent on an up-to-date database
    with db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"projects", "tokens", "jobs", "versions", "datasets", "dataset_versions"} <= tables
