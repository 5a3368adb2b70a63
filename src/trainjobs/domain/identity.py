"""Projects and tokens: the first-start bootstrap and request authentication."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.store import identity as q
from trainjobs.store.database import Database

DEFAULT_PROJECT = "default"
CREDENTIALS_FILE = "credentials.json"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bootstrap(db: Database, data_dir: Path, endpoint: str, job_quota: int) -> dict[str, str]:
    """Make sure the default project exists and ``credentials.json`` holds a working token.

    The token itself is only ever in that file (mode 0600); the store keeps its
    hash. If the file was lost, a new token is issued.
    """
    path = data_dir / CREDENTIALS_FILE
    existing: dict[str, str] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except (OSError, ValueError):
            existing = {}
    with db.write() as conn:
        project = q.get_project_by_name(conn, DEFAULT_PROJECT)
        if project is None:
            project_id = secrets.token_hex(16)
            q.insert_project(conn, project_id, DEFAULT_PROJECT, job_quota, now_ms())
        else:
            project_id = project.id
        token = existing.get("token", "")
        known = q.find_token(conn, hash_token(token)) if token else None
        if known is None or known.project_id != project_id or known.revoked:
            token = secrets.token_urlsafe(32)
            q.insert_token(conn, hash_token(token), project_id, now_ms())
    credentials = {"endpoint": endpoint, "project_id": project_id, "token": token}
    if credentials != existing:
        _write_private(path, json.dumps(credentials, indent=2) + "\n")
    return credentials


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def authenticate(db: Database, token: str, project_id: str) -> str:
    """The project a request may act on, or the reason it may not."""
    if not token:
        raise errors.MissingToken(
            "no token: send X-Auth-Token (or Authorization: Bearer) with the token from "
            "credentials.json"
        )
    with db.read() as conn:
        found = q.find_token(conn, hash_token(token))
    if found is None or found.revoked:
        raise errors.InvalidToken("the token is unknown or revoked")
    if found.expires_at and found.expires_at <= now_ms():
        raise errors.ExpiredToken("the token has expired; request a new one")
    if found.project_id != project_id:
        raise errors.ProjectMismatch(f"the token belongs to another project than {project_id}")
    return str(found.project_id)
