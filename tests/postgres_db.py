"""A fresh database on the test PostgreSQL server, for tests that need several servers
on one PostgreSQL whatever database the rest of the suite runs on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from conftest import TEST_POSTGRES

DEFAULT_POSTGRES = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards; a skip without a server."""
    server = TEST_POSTGRES or DEFAULT_POSTGRES
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"tj_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError:
        admin.dispose()
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432 (or TRAINJOBS_TEST_POSTGRES_URL)")
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
