"""The bootstrap project and token: ``credentials.json``, the operator's key.

The token itself is only ever in that file (mode 0600); the store keeps its hash.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from trainjobs.domain import errors
from trainjobs.domain.account_names import DEFAULT_PROJECT
from trainjobs.domain.clock import now_ms
from trainjobs.domain.hashing import hash_token
from trainjobs.store import identity as q
from trainjobs.store.database import Database

CREDENTIALS_FILE = "credentials.json"


def bootstrap(
    db: Database, data_dir: Path, endpoint: str, job_quota: int, obs_endpoint: str = ""
) -> dict[str, str]:
    """Make sure the default project exists and ``credentials.json`` holds a working token.

    The token itself is only ever in that file (mode 0600); the store keeps its
    hash. If the file was lost, a new token is issued. It never expires: it is
    the operator's key to the default project.
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
    if obs_endpoint:  # the object endpoint (D27)
        credentials["obs_endpoint"] = obs_endpoint
    if credentials != existing:
        _write_private(path, json.dumps(credentials, indent=2) + "\n")
    return credentials


def rotate_default_token(db: Database, data_dir: Path) -> dict[str, str]:
    """Replace the default project's token: the old one is revoked at once, and
    ``credentials.json`` holds the new one."""
    path = data_dir / CREDENTIALS_FILE
    try:
        existing = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise errors.InvalidParameter(
            f"{path} cannot be read ({exc}): start the server once to create it"
        ) from exc
    token = secrets.token_urlsafe(32)
    with db.write() as conn:
        project = q.get_project_by_name(conn, DEFAULT_PROJECT)
        if project is None:
            raise errors.InvalidParameter("there is no default project yet: start the server once")
        old = str(existing.get("token", ""))
        if old:
            q.revoke_token(conn, hash_token(old))
        q.insert_token(conn, hash_token(token), project.id, now_ms())
    credentials = {**existing, "project_id": project.id, "token": token}
    _write_private(path, json.dumps(credentials, indent=2) + "\n")
    return credentials


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
