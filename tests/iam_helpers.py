"""Helpers of the IAM-compatible token tests, used across the suite: users and projects
made as ``trainjobs users`` / ``projects`` make them, and token requests."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from conftest import TRAINJOBS, Server
from trainjobs.domain import accounts
from trainjobs.settings import DEFAULT_JOB_QUOTA, Settings
from trainjobs.store.database import Database

TOKENS = "/v3/auth/tokens"
DAY_S = 24 * 3600


def trainjobs(server: Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI against the server's data dir."""
    done = subprocess.run(
        [*TRAINJOBS, *args, "--data-dir", str(server.data_dir)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _accounts_db(server: Server) -> Database:
    """The server's database, as ``trainjobs users`` opens it (its key file included)."""
    settings = Settings.from_env(
        data_dir=server.data_dir,
        database_url=server.env.get("TRAINJOBS_DATABASE_URL") or server.database_url,
        secret_key_file=server.env.get("TRAINJOBS_SECRET_KEY_FILE", ""),
    )
    return Database(settings.resolved_database_url, settings.resolved_secret_key_file)


def make_user(
    server: Server,
    projects: tuple[str, ...] = ("default",),
    *,
    domain: str = "default",
    with_aksk: bool = False,
    password: str | None = None,
) -> dict[str, Any]:
    """A new user, made as ``trainjobs users create --json`` makes it (the same domain
    call, in this process: a CLI start-up per user would dominate these tests; the
    command itself is tested below): its id, name, projects and secrets."""
    db = _accounts_db(server)
    try:
        made = accounts.create_user(
            db, domain, f"u-{uuid.uuid4().hex[:10]}", projects, password, with_aksk
        )
    finally:
        db.dispose()
    user: dict[str, Any] = {
        "id": made.user.id,
        "domain": made.user.domain,
        "name": made.user.name,
        "projects": [{"id": p.id, "name": p.name} for p in made.projects],
        "password": made.password if password is None else password,
    }
    if made.access_key:
        user["access_key"], user["secret_key"] = made.access_key, made.secret_key
    return user


def make_project(server: Server) -> dict[str, Any]:
    db = _accounts_db(server)
    try:
        project = accounts.create_project(db, f"p-{uuid.uuid4().hex[:10]}", DEFAULT_JOB_QUOTA)
    finally:
        db.dispose()
    return {"id": project.id, "name": project.name}


def password_auth(
    user: dict[str, Any], scope: Any = None, password: str | None = None
) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {
                    "name": user["name"],
                    "password": password if password is not None else user["password"],
                    "domain": {"name": user["domain"]},
                }
            },
        }
    }
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def aksk_auth(ak: str, sk: str, scope: Any = None) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["hw_ak_sk"],
            "hw_ak_sk": {"access": {"key": ak}, "secret": {"key": sk}},
        }
    }
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def issue(server: Server, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.base}{TOKENS}", json=body, timeout=30)


def token_for(server: Server, user: dict[str, Any], project: str = "default") -> str:
    r = issue(server, password_auth(user, {"project": {"name": project}}))
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


def list_jobs(server: Server, project_id: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.base}/v1/{project_id}/training-jobs", headers={"X-Auth-Token": token}, timeout=30
    )


def keystone_error(response: httpx.Response, status: int) -> str:
    """The Keystone error shape keystoneauth reads; returns the message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status and error["title"] and error["message"]
    assert set(response.json()) == {"error"}
    return str(error["message"])


def parse_iso(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now() -> datetime:
    return datetime.now(UTC)


def server_log(server: Server) -> str:
    return Path(server.log.name).read_text(errors="replace")
