"""Projects and users: the values that name them, and their management (the CLI's side).

Domains have no table of their own: a user's domain is a name, its id derived from it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.hashing import hash_password
from trainjobs.store import identity as q
from trainjobs.store.database import Database

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MIN_PASSWORD_LENGTH = 8

AK_ALPHABET = string.ascii_uppercase + string.digits
AK_LENGTH = 20
SK_ALPHABET = string.ascii_letters + string.digits
SK_LENGTH = 40


# -- values ---------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    id: str
    name: str


@dataclass(frozen=True)
class User:
    id: str
    domain: str
    name: str

    @property
    def domain_id(self) -> str:
        return domain_id(self.domain)


@dataclass(frozen=True)
class UserRef:
    """A user as a client names it: by id, or by name within a domain (by id or name)."""

    id: str = ""
    name: str = ""
    domain_id: str = ""
    domain_name: str = ""


@dataclass(frozen=True)
class ProjectRef:
    id: str = ""
    name: str = ""

    def __str__(self) -> str:
        return self.id or self.name


@dataclass(frozen=True)
class UserSummary:
    user: User
    projects: tuple[Project, ...]
    access_keys: tuple[str, ...]


@dataclass(frozen=True)
class NewUser:
    user: User
    projects: tuple[Project, ...]
    password: str = field(repr=False)
    access_key: str = ""
    secret_key: str = field(default="", repr=False)


def domain_id(name: str) -> str:
    """A domain's id, derived from its name: domains have no table of their own."""
    return hashlib.sha256(f"trainjobs-domain:{name}".encode()).hexdigest()[:32]


def new_access_key() -> tuple[str, str]:
    ak = "".join(secrets.choice(AK_ALPHABET) for _ in range(AK_LENGTH))
    sk = "".join(secrets.choice(SK_ALPHABET) for _ in range(SK_LENGTH))
    return ak, sk


def check_name(kind: str, name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise errors.InvalidParameter(
            f"{kind} name {name!r} must be 1 to 64 letters, digits or _ . @ -, "
            "starting with a letter or digit"
        )
    return name


# -- managing projects and users (the CLI's side) --------------------------------


def create_project(db: Database, name: str, job_quota: int) -> Project:
    check_name("project", name)
    if job_quota < 0:
        raise errors.InvalidParameter("the job quota must be 0 or more")
    project = Project(secrets.token_hex(16), name)
    with db.write() as conn:
        if q.get_project_by_name(conn, name) is not None:
            raise errors.InvalidParameter(f"a project named {name!r} already exists")
        q.insert_project(conn, project.id, name, job_quota, now_ms())
    return project


def list_projects(db: Database) -> list[tuple[Project, int]]:
    """Every project with its job quota."""
    with db.read() as conn:
        return [(Project(r.id, r.name), int(r.job_quota)) for r in q.list_projects(conn)]


def _project(conn: sa.Connection, ref: str) -> Project:
    row = q.get_project(conn, ref) or q.get_project_by_name(conn, ref)
    if row is None:
        raise errors.NotFound(f"no project has the id or name {ref!r}")
    return Project(row.id, row.name)


def create_user(
    db: Database,
    domain: str,
    name: str,
    projects: Sequence[str],
    password: str | None = None,
    with_access_key: bool = False,
) -> NewUser:
    """A user, member of ``projects`` (ids or names); without ``password`` one is made up."""
    check_name("domain", domain)
    check_name("user", name)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise errors.InvalidParameter(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    if not projects:
        raise errors.InvalidParameter("a user needs at least one project")
    password = password if password is not None else secrets.token_urlsafe(18)
    user = User(secrets.token_hex(16), domain, name)
    password_hash = hash_password(password)  # slow: outside the write transaction
    ak, sk = new_access_key() if with_access_key else ("", "")
    with db.write() as conn:
        if q.get_user_by_name(conn, domain, name) is not None:
            raise errors.InvalidParameter(f"domain {domain!r} already has a user named {name!r}")
        members = tuple(dict.fromkeys(_project(conn, ref) for ref in projects))
        q.insert_user(conn, user.id, domain, name, password_hash, now_ms())
        for project in members:
            q.add_member(conn, user.id, project.id)
        if ak:
            q.insert_access_key(conn, ak, user.id, db.secrets.seal(sk), now_ms())
    return NewUser(user, members, password, ak, sk)


def list_users(db: Database) -> list[UserSummary]:
    with db.read() as conn:
        return [
            UserSummary(
                User(r.id, r.domain, r.name),
                tuple(Project(p.id, p.name) for p in q.projects_of_user(conn, r.id)),
                tuple(q.access_keys_of_user(conn, r.id)),
            )
            for r in q.list_users(conn)
        ]


def delete_user(db: Database, domain: str, name: str) -> User:
    """Remove a user with its access keys and tokens."""
    with db.write() as conn:
        row = q.get_user_by_name(conn, domain, name)
        if row is None:
            raise errors.NotFound(f"domain {domain!r} has no user named {name!r}")
        q.delete_user(conn, row.id)
    return User(row.id, row.domain, row.name)
