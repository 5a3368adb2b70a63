"""Projects, users, access keys and tokens: who may call, and on which project.

Three ways in: a token (the bootstrap token of ``credentials.json``, or one
issued for a user's password or access key), or a request signed with an
access key (``domain/signing.py``). Secrets are never logged: the token and
the password are only hashed here, the secret key only keys an HMAC.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from trainjobs.domain import errors, signing
from trainjobs.domain.clock import now_ms
from trainjobs.store import identity as q
from trainjobs.store.database import Database

DEFAULT_PROJECT = "default"
DEFAULT_DOMAIN = "default"
CREDENTIALS_FILE = "credentials.json"
DEFAULT_TOKEN_LIFETIME_S = 24 * 3600
# Expired tokens are kept a while so that they answer "expired", not "unknown".
EXPIRED_TOKEN_RETENTION_MS = 7 * 24 * 3600 * 1000
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MIN_PASSWORD_LENGTH = 8

PASSWORD = "password"
ACCESS_KEY = "hw_ak_sk"

# scrypt at n=2^15, r=8 takes 32 MiB and tens of milliseconds a guess: a leaked
# hash costs an attacker that much per password tried.
SCRYPT_LOG2_N = 15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_KEY_BYTES = 32

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
class TokenInfo:
    project: Project
    user: User | None  # None for the bootstrap token
    methods: tuple[str, ...]
    issued_at_ms: int
    expires_at_ms: int  # 0: never


@dataclass(frozen=True)
class IssuedToken:
    token: str = field(repr=False)
    info: TokenInfo


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


# -- secrets --------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def domain_id(name: str) -> str:
    """A domain's id, derived from its name: domains have no table of their own."""
    return hashlib.sha256(f"trainjobs-domain:{name}".encode()).hexdigest()[:32]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_LOG2_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r * p,  # twice what scrypt needs; the default cap is too low
        dklen=SCRYPT_KEY_BYTES,
    )


@functools.cache
def _decoy_hash() -> str:
    # Checked against when the user does not exist, so that an unknown name
    # takes as long to refuse as a wrong password.
    return hash_password(secrets.token_urlsafe(16))


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


# -- the bootstrap project and token ---------------------------------------------


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


# -- tokens ---------------------------------------------------------------------


def _valid_token(conn: sa.Connection, token: str) -> sa.Row:
    if not token:
        raise errors.MissingToken(
            "no token: send X-Auth-Token (or Authorization: Bearer) with a token from "
            "POST /v3/auth/tokens or from credentials.json, or sign the request with an AK/SK"
        )
    found = q.find_token(conn, hash_token(token))
    if found is None or found.revoked:
        raise errors.InvalidToken("the token is unknown or revoked")
    if found.expires_at and found.expires_at <= now_ms():
        raise errors.ExpiredToken("the token has expired; request a new one")
    return found


def authenticate(db: Database, token: str, project_id: str) -> str:
    """The project a request may act on, or the reason it may not."""
    with db.read() as conn:
        found = _valid_token(conn, token)
    if found.project_id != project_id:
        raise errors.ProjectMismatch(f"the token belongs to another project than {project_id}")
    return str(found.project_id)


def _token_info(row: sa.Row) -> TokenInfo:
    user = User(row.user_id, row.user_domain, row.user_name) if row.user_id else None
    return TokenInfo(
        project=Project(row.project_id, row.project_name),
        user=user,
        methods=tuple(m for m in row.methods.split(",") if m),
        issued_at_ms=row.create_time,
        expires_at_ms=row.expires_at,
    )


class IdentityService:
    """Issues, checks and revokes tokens; checks signed requests."""

    def __init__(
        self,
        db: Database,
        token_lifetime_s: float = DEFAULT_TOKEN_LIFETIME_S,
        signature_skew_s: float = signing.DEFAULT_SKEW_S,
        replays: signing.ReplayGuard | None = None,
    ) -> None:
        if token_lifetime_s <= 0 or signature_skew_s <= 0:
            raise ValueError("the token lifetime and the signature skew must be positive")
        self.db = db
        self.token_lifetime_s = token_lifetime_s
        self.signature_skew_s = signature_skew_s
        self.replays = replays or signing.ReplayGuard()

    # -- issuing ----------------------------------------------------------------

    def issue_with_password(
        self, user: UserRef, password: str, scope: ProjectRef | None
    ) -> IssuedToken:
        with self.db.read() as conn:
            row = self._find_user(conn, user)
        stored = row.password_hash if row is not None else _decoy_hash()
        if not verify_password(password, stored) or row is None:
            raise errors.AuthenticationFailed(
                "the user name, domain or password is wrong: the request requires authentication"
            )
        return self._issue(User(row.id, row.domain, row.name), scope, PASSWORD)

    def issue_with_access_key(
        self, access_key: str, secret_key: str, scope: ProjectRef | None
    ) -> IssuedToken:
        with self.db.read() as conn:
            key = q.find_access_key(conn, access_key) if access_key else None
            row = q.get_user(conn, key.user_id) if key is not None else None
        expected = self.db.secrets.unseal(key.sk) if key is not None else secrets.token_urlsafe(30)
        if not hmac.compare_digest(expected.encode(), secret_key.encode()) or row is None:
            raise errors.AuthenticationFailed(
                "the access key or secret key is wrong: the request requires authentication"
            )
        return self._issue(User(row.id, row.domain, row.name), scope, ACCESS_KEY)

    def _find_user(self, conn: sa.Connection, ref: UserRef) -> sa.Row | None:
        if ref.id:
            return q.get_user(conn, ref.id)
        if ref.domain_name:
            domain = ref.domain_name
        elif ref.domain_id == DEFAULT_DOMAIN:
            # Keystone's default domain has the id "default"; clients send it as is.
            domain = DEFAULT_DOMAIN
        else:
            # Domains are named, not stored: find the one this id was derived from.
            matches = [d for d in q.list_domains(conn) if domain_id(d) == ref.domain_id]
            if not matches:
                return None
            domain = matches[0]
        return q.get_user_by_name(conn, domain, ref.name)

    def _issue(self, user: User, scope: ProjectRef | None, method: str) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        issued = now_ms()
        expires = issued + int(self.token_lifetime_s * 1000)
        with self.db.write() as conn:
            project = self._scope(conn, user, scope)
            q.insert_token(
                conn,
                hash_token(token),
                project.id,
                issued,
                expires,
                user_id=user.id,
                methods=method,
            )
            q.prune_tokens(conn, issued - EXPIRED_TOKEN_RETENTION_MS)
        return IssuedToken(token, TokenInfo(project, user, (method,), issued, expires))

    def _scope(self, conn: sa.Connection, user: User, scope: ProjectRef | None) -> Project:
        mine = [Project(r.id, r.name) for r in q.projects_of_user(conn, user.id)]
        if scope is None or not (scope.id or scope.name):
            # Keystone scopes an unscoped request to the user's default project;
            # here a user's only project is its default.
            if len(mine) == 1:
                return mine[0]
            raise errors.AuthenticationFailed(
                f"the user is a member of {len(mine)} projects: scope the request to one "
                "(auth.scope.project.id or auth.scope.project.name)"
            )
        for project in mine:
            if (scope.id and project.id == scope.id) or (scope.name and project.name == scope.name):
                return project
        raise errors.AuthenticationFailed(f"the user has no access to project {scope}")

    # -- checking ---------------------------------------------------------------

    def authenticate(self, token: str, project_id: str) -> str:
        """The project a token may act on. Checked in the database on every request,
        never cached: a revocation, a deleted user or key takes effect at once on
        every server sharing it. A cache that honours that would still read the
        database once a request; bench/token_check.py measures what it could save."""
        with self.db.read() as conn:
            found = _valid_token(conn, token)
        if found.project_id != project_id:
            raise errors.ProjectMismatch(f"the token belongs to another project than {project_id}")
        return str(found.project_id)

    def token_info(self, caller_token: str, subject_token: str) -> TokenInfo:
        """The subject token as its holder may see it: the caller's own token, or one of
        the same user's."""
        with self.db.read() as conn:
            caller = _valid_token(conn, caller_token)
            subject = q.find_token(conn, hash_token(subject_token)) if subject_token else None
        if subject is None or subject.revoked or not self._same_holder(caller, subject):
            raise errors.NotFound("could not find the token given in X-Subject-Token")
        if subject.expires_at and subject.expires_at <= now_ms():
            raise errors.NotFound("the token given in X-Subject-Token has expired")
        return _token_info(subject)

    def revoke(self, caller_token: str, subject_token: str) -> None:
        self.token_info(caller_token, subject_token)
        with self.db.write() as conn:
            q.revoke_token(conn, hash_token(subject_token))

    @staticmethod
    def _same_holder(caller: sa.Row, subject: sa.Row) -> bool:
        if caller.token_sha256 == subject.token_sha256:
            return True
        return caller.user_id is not None and caller.user_id == subject.user_id

    def projects_for_token(self, token: str) -> tuple[str, list[Project]]:
        """The token holder's domain and projects (the bootstrap token has its own only)."""
        with self.db.read() as conn:
            found = _valid_token(conn, token)
            if found.user_id is None:
                return DEFAULT_DOMAIN, [Project(found.project_id, found.project_name)]
            projects = [Project(r.id, r.name) for r in q.projects_of_user(conn, found.user_id)]
            return str(found.user_domain), projects

    # -- signed requests --------------------------------------------------------

    def authenticate_signed(self, request: signing.SignedRequest, project_id: str) -> str:
        """The project a signed request may act on, or the reason it may not."""
        user_id, auth, signed_at = self._verify_signed(request)
        with self.db.read() as conn:
            member = q.is_member(conn, user_id, project_id)
        if not member:
            raise errors.ProjectMismatch(
                f"the access key {auth.access_key} belongs to a user who is not a member of "
                f"project {project_id}"
            )
        self._admit(request.method, auth, signed_at)
        return project_id

    def projects_for_signed(self, request: signing.SignedRequest) -> tuple[str, list[Project]]:
        """The signer's domain and projects."""
        user_id, auth, signed_at = self._verify_signed(request)
        with self.db.read() as conn:
            user = q.get_user(conn, user_id)
            projects = [Project(r.id, r.name) for r in q.projects_of_user(conn, user_id)]
        self._admit(request.method, auth, signed_at)
        return (str(user.domain) if user else DEFAULT_DOMAIN), projects

    def _verify_signed(
        self, request: signing.SignedRequest
    ) -> tuple[str, signing.Authorization, datetime]:
        auth = signing.parse_authorization(request.header("authorization") or "")
        signed_at = signing.signing_time(request)
        signing.check_freshness(signed_at, datetime.now(UTC), self.signature_skew_s)
        with self.db.read() as conn:
            key = q.find_access_key(conn, auth.access_key)
        if key is None:
            raise errors.InvalidSignature(f"the access key {auth.access_key} is unknown")
        signing.verify(request, auth, self.db.secrets.unseal(key.sk))
        return str(key.user_id), auth, signed_at

    def _admit(self, method: str, auth: signing.Authorization, signed_at: datetime) -> None:
        until = signed_at.timestamp() + self.signature_skew_s
        if not self.replays.admit(method, auth.signature, until, time.time()):
            raise errors.InvalidSignature(
                "this signed request was already received seconds ago (a replay): sign "
                "every request anew, with the current time in X-Sdk-Date"
            )


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
