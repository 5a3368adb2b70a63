"""The real ``trainjobs users`` / ``projects`` commands, and what the store keeps of
users and tokens (salted hashes, no secrets in the log, a data dir from before IAM)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from conftest import Server
from iam_helpers import (
    TOKENS,
    aksk_auth,
    issue,
    list_jobs,
    make_project,
    make_user,
    password_auth,
    server_log,
    token_for,
    trainjobs,
)
from trainjobs.store.database import MIGRATIONS_DIR, Database

# -- the CLI and the store -----------------------------------------------------------


def test_cli_lists_users_and_projects_without_secrets(server: Server) -> None:
    project = make_project(server)
    user = make_user(server, (project["id"],), with_aksk=True)
    listed = json.loads(trainjobs(server, "users", "list", "--json").stdout)
    mine = next(u for u in listed if u["id"] == user["id"])
    assert mine["access_keys"] == [user["access_key"]]
    assert mine["projects"] == [{"id": project["id"], "name": project["name"]}]
    table = (
        trainjobs(server, "users", "list").stdout
        + trainjobs(server, "users", "list", "--json").stdout
    )
    assert user["secret_key"] not in table and user["password"] not in table
    projects = json.loads(trainjobs(server, "projects", "list", "--json").stdout)
    assert {"id": project["id"], "name": project["name"], "job_quota": 10_000} in projects
    assert project["name"] in trainjobs(server, "projects", "list").stdout


def test_cli_create_prints_the_secrets_once_in_plain_text(server: Server) -> None:
    name = f"u-{uuid.uuid4().hex[:10]}"
    out = trainjobs(server, "users", "create", name, "--with-aksk").stdout
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    password, ak, sk = lines["password"], lines["access key (AK)"], lines["secret key (SK)"]
    user = {"name": name, "domain": "default", "password": password}
    assert issue(server, password_auth(user)).status_code == 201
    assert issue(server, aksk_auth(ak, sk)).status_code == 201


def test_cli_create_json_names_projects_and_secrets_that_work(server: Server) -> None:
    project = json.loads(
        trainjobs(server, "projects", "create", f"p-{uuid.uuid4().hex[:10]}", "--json").stdout
    )
    args = ["users", "create", f"u-{uuid.uuid4().hex[:10]}", "--json", "--with-aksk"]
    args += ["--project", project["name"], "--password", "a good password"]
    made = json.loads(trainjobs(server, *args).stdout)
    assert made["projects"] == [{"id": project["id"], "name": project["name"]}]
    assert "password" not in made  # chosen by the caller: not shown back
    user = {**made, "password": "a good password"}
    assert issue(server, password_auth(user)).status_code == 201
    assert issue(server, aksk_auth(made["access_key"], made["secret_key"])).status_code == 201


def test_cli_refusals(server: Server) -> None:
    user = make_user(server)
    dup = trainjobs(server, "users", "create", user["name"], check=False)
    assert dup.returncode == 1 and "already has a user" in dup.stderr
    missing = trainjobs(server, "users", "create", "someone", "--project", "no-such", check=False)
    assert missing.returncode == 1 and "no project" in missing.stderr
    short = trainjobs(server, "users", "create", "someone", "--password", "short", check=False)
    assert short.returncode == 1 and "at least 8" in short.stderr
    bad_name = trainjobs(server, "projects", "create", "has space", check=False)
    assert bad_name.returncode == 1 and "must be 1 to 64" in bad_name.stderr
    usage = trainjobs(server, "users", "create", check=False)
    assert usage.returncode == 2
    dup_project = trainjobs(server, "projects", "create", "default", check=False)
    assert dup_project.returncode == 1 and "already exists" in dup_project.stderr
    gone = trainjobs(server, "users", "delete", "nobody-here", check=False)
    assert gone.returncode == 1


def test_passwords_are_stored_as_salted_scrypt_hashes(server: Server) -> None:
    same = "the-same-password-1"
    a, b = make_user(server, password=same), make_user(server, password=same)
    db = Database(server.database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(sa.text("SELECT id, password_hash FROM users WHERE id IN (:a, :b)"),
                                {"a": a["id"], "b": b["id"]}).all()  # fmt: skip
            tokens = conn.execute(sa.text("SELECT token_sha256 FROM tokens")).all()
    finally:
        db.dispose()
    hashes = [row.password_hash for row in rows]
    assert len(hashes) == 2 and hashes[0] != hashes[1]  # a salt of its own each
    assert all(h.startswith("scrypt$") and same not in h for h in hashes)
    token = token_for(server, a)
    assert all(token not in row.token_sha256 for row in tokens)


def test_secrets_never_reach_the_server_log(server: Server) -> None:
    user = make_user(server, with_aksk=True, password="log-me-not-password")
    token = token_for(server, user)
    issue(server, aksk_auth(user["access_key"], user["secret_key"]))
    issue(server, password_auth(user, password="log-me-not-wrong"))
    issue(server, aksk_auth(user["access_key"], "log-me-not-secret"))
    httpx.get(f"{server.base}{TOKENS}", headers={"X-Auth-Token": token, "X-Subject-Token": token})
    text = server_log(server)
    for secret in ("log-me-not", user["secret_key"], token, server.token):
        assert secret not in text


def test_a_data_dir_from_before_iam_keeps_its_token(tmp_path: Path) -> None:
    """A data dir at schema 0003 with its default project and bootstrap token."""
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{(data / 'trainjobs.db').resolve()}"
    db = Database(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    from trainjobs.domain.hashing import hash_token

    token, project_id = "pre-iam-token-" + uuid.uuid4().hex, uuid.uuid4().hex
    with db.write() as conn:
        conn.execute(
            sa.text("INSERT INTO projects VALUES (:id, 'default', 10000, 1)"), {"id": project_id}
        )
        conn.execute(sa.text("INSERT INTO tokens (token_sha256, project_id, create_time) VALUES (:h, :p, 1)"),
                     {"h": hash_token(token), "p": project_id})  # fmt: skip
    db.dispose()
    (data / "credentials.json").write_text(json.dumps(
        {"endpoint": "http://127.0.0.1:1", "project_id": project_id, "token": token}))  # fmt: skip
    # This test is about an SQLite data dir, whatever database the suite runs on.
    srv = Server(data, env={"TRAINJOBS_DATABASE_URL": url}).start()
    try:
        assert srv.token == token and srv.project_id == project_id
        assert list_jobs(srv, project_id, token).status_code == 200
        r = httpx.get(f"{srv.base}/v3/projects", headers={"X-Auth-Token": token}, timeout=30)
        assert [p["id"] for p in r.json()["projects"]] == [project_id]
        user = make_user(srv)
        assert list_jobs(srv, project_id, token_for(srv, user)).status_code == 200
    finally:
        srv.stop()
