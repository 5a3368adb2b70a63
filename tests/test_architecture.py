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


def test_snapshot_migration_backfills_existing_versions(tmp_path: Path) -> None:
    """A database written before snapshots existed lists the same after the upgrade."""
    from alembic import command
    from alembic.config import Config

    from trainjobs.domain.jobs import snapshot
    from trainjobs.store import tables

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(tables.__file__).parent / "migrations"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.execute(sa.text("INSERT INTO projects VALUES ('p', 'default', 10, 0)"))
        conn.execute(
            sa.text(
                "INSERT INTO jobs (id, project_id, workspace_id, job_name, resource_id, create_time,"
                " version_counter, version_count) VALUES (1, 'p', '0', 'j', 'jobabc', 0, 1, 1)"
            )
        )
        values = {
            "id": 1, "job_id": 1, "number": 1, "pre_version_id": 0, "status": 10, "create_time": 5,
            "engine_id": 1, "engine_type": 1, "engine_name": "Python", "engine_version": "py",
            "spec_id": 1, "spec_code": "c", "core": "1", "cpu": "2", "gpu_num": 0, "gpu_type": "",
            "pool_id": "local", "pool_name": "local", "worker_server_num": 1, "app_url": "/b/a/",
            "boot_file_url": "/b/a/t.py", "data_url": "", "train_url": "/b/o/", "log_url": "",
            "dataset_id": "", "dataset_version_id": "", "dataset_name": "", "dataset_version_name": "",
            "data_source": "[]", "parameter": '[{"label": "lr", "value": "0.1"}]', "volumes": "[]",
            "model_id": 0, "user_image_url": "", "user_command": "", "nas_mount_path": "",
            "nas_share_addr": "", "nas_type": "", "model_metric_list": "{}", "system_metric_list": "{}",
        }  # fmt: skip
        columns = ", ".join(values)
        conn.execute(
            sa.text(
                f"INSERT INTO versions ({columns}) VALUES ({', '.join(':' + k for k in values)})"
            ),
            values,
        )
    db.migrate()
    with db.read() as conn:
        stored = conn.execute(sa.text("SELECT snapshot FROM versions WHERE id = 1")).scalar_one()
    assert stored == snapshot(values, "jobabc")


def test_store_knows_nothing_of_the_domain() -> None:
    """The store sits below the domain: the status machine it checks lives below both."""
    for path, names in _imports(SRC / "store").items():
        assert not any(n.startswith("trainjobs.domain") for n in names), path
        assert not names & {"fastapi", "starlette"}, path
