"""Secrets at rest and at the door: sealed access-key secrets, a 0600 key file and
credentials.json, token rotation, and the login throttle, against a real server."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from conftest import TEST_POSTGRES, TRAINJOBS, Server
from iam_helpers import TOKENS, make_user, password_auth, trainjobs
from trainjobs.store.database import MIGRATIONS_DIR, Database
from trainjobs.store.secretbox import SecretBox, SecretKeyError


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose login throttle locks a user after 3 failures (an address after 12)."""
    root = tmp_path_factory.mktemp("guarded")
    srv = Server(root / "data", env={"TRAINJOBS_LOGIN_MAX_FAILURES": "3"}).start()
    yield srv
    srv.stop()
    srv.drop()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_and_credentials_are_private(guarded: Server) -> None:
    assert _mode(guarded.data_dir / "credentials.json") == 0o600
    assert _mode(guarded.data_dir / "secret.key") == 0o600


def _aksk_login(server: Server, ak: str, sk: str) -> httpx.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["hw_ak_sk"],
                "hw_ak_sk": {"access": {"key": ak}, "secret": {"key": sk}},
            },
            "scope": {"project": {"name": "default"}},
        }
    }
    return httpx.post(f"{server.base}{TOKENS}", json=body, timeout=30)


@pytest.mark.skipif(bool(TEST_POSTGRES), reason="reads the SQLite file itself")
def test_secret_keys_are_unreadable_in_a_copy_of_the_database(
    guarded: Server, tmp_path: Path
) -> None:
    user = make_user(guarded, with_aksk=True)
    ak, sk = user["access_key"], user["secret_key"]
    # The server opens it with its key file: the key works.
    assert _aksk_login(guarded, ak, sk).status_code == 201
    copy = tmp_path / "stolen.db"
    with sqlite3.connect(guarded.data_dir / "trainjobs.db") as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    stored = sqlite3.connect(copy).execute("SELECT sk FROM access_keys WHERE ak = ?", (ak,))
    (sealed,) = stored.fetchone()
    assert sealed != sk and sealed.startswith("fernet:")
    assert sk.encode() not in copy.read_bytes()
    # Only the right key opens it; another key file says so.
    assert SecretBox.at(guarded.data_dir / "secret.key").unseal(sealed) == sk
    with pytest.raises(SecretKeyError):
        SecretBox.at(tmp_path / "other.key").unseal(sealed)


def test_migration_seals_existing_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.exec_driver_sql(
            "INSERT INTO users (id, domain, name, password_hash, create_time) "
            "VALUES ('u1', 'default', 'old', 'x', 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO access_keys (ak, user_id, sk, create_time) "
            "VALUES ('AKOLD', 'u1', 'plain-secret-of-before', 0)"
        )
    engine.dispose()
    key = tmp_path / "secret.key"
    db = Database(url, key)
    db.migrate()
    with db.read() as conn:
        sealed = conn.exec_driver_sql("SELECT sk FROM access_keys").scalar_one()
    db.dispose()
    assert sealed.startswith("fernet:") and "plain-secret" not in sealed
    assert SecretBox.at(key).unseal(sealed) == "plain-secret-of-before"
    assert _mode(key) == 0o600


def test_rotation_replaces_the_default_token(guarded: Server) -> None:
    old = guarded.token
    r = httpx.get(f"{guarded.base}{guarded.v1}/training-jobs", headers={"X-Auth-Token": old})
    assert r.status_code == 200
    trainjobs(guarded, "tokens", "rotate")
    path = guarded.data_dir / "credentials.json"
    new = json.loads(path.read_text())["token"]
    assert new != old and _mode(path) == 0o600
    r = httpx.get(f"{guarded.base}{guarded.v1}/training-jobs", headers={"X-Auth-Token": new})
    assert r.status_code == 200
    # The old token stops working (at once, or once the server's short token cache lapses).
    deadline = time.monotonic() + 10
    while True:
        r = httpx.get(f"{guarded.base}{guarded.v1}/training-jobs", headers={"X-Auth-Token": old})
        if r.status_code == 401:
            break
        assert time.monotonic() < deadline, r.text
        time.sleep(0.2)
    guarded.token = new
    guarded.client.headers["X-Auth-Token"] = new
    # A restart keeps the rotated token: credentials.json is its only copy.
    guarded.stop()
    guarded.start()
    assert guarded.token == new


def _login(server: Server, user: dict[str, str], password: str) -> httpx.Response:
    return httpx.post(f"{server.base}{TOKENS}", json=password_auth(user, password=password))


def test_failed_logins_lock_the_user_briefly(guarded: Server) -> None:
    victim = make_user(guarded, password="correct horse battery")
    for _ in range(3):
        assert _login(guarded, victim, "wrong guess!").status_code == 401
    locked = _login(guarded, victim, "correct horse battery")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "too many failed logins" in locked.text
    # Another user from the same address is not locked out by that.
    other = make_user(guarded, password="another good one")
    assert _login(guarded, other, "another good one").status_code == 201


def test_failed_logins_lock_the_address(guarded: Server) -> None:
    # Guessing across many users from one address: never 3 failures for one user,
    # yet the address is locked once it failed 12 times within the window.
    users = [make_user(guarded, password="a proper password") for _ in range(7)]
    statuses = [_login(guarded, u, "guess").status_code for u in users for _ in range(2)]
    first = statuses.index(429)  # earlier tests' failures from this address may count too
    assert first >= 2 and set(statuses[:first]) == {401} and set(statuses[first:]) == {429}
    fresh = make_user(guarded, password="fresh and right")
    refused = _login(guarded, fresh, "fresh and right")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_serve_refuses_a_key_file_that_holds_no_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    done = subprocess.run(
        [*TRAINJOBS, "serve", "--port", "1", "--data-dir", str(tmp_path / "data")],
        env={**os.environ, "TRAINJOBS_SECRET_KEY_FILE": str(bad)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "does not hold a Fernet key" in done.stderr and "TRAINJOBS_SECRET_KEY_FILE" in done.stderr
    )
