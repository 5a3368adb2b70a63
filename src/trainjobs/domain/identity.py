"""Tokens and signed requests: who may call, and on which project.

Three ways in: a token (the bootstrap token of ``credentials.json``, or one
issued for a user's password or access key), or a request signed with an
access key (``domain/signing.py``). Secrets are never logged: the token and
the password are only hashed (``domain/hashing.py``), the secret key only keys
an HMAC. Projects and users are ``domain/accounts.py``'s.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from trainjobs.domain import errors, signing
from trainjobs.domain.account_names import DEFAULT_DOMAIN
from trainjobs.domain.accounts import Project, ProjectRef, User, UserRef, domain_id
from trainjobs.domain.clock import now_ms
from trainjobs.domain.hashing import decoy_hash, hash_token, verify_password
from trainjobs.store import identity as q
from trainjobs.store.database import Database

DEFAULT_TOKEN_LIFETIME_S = 24 * 3600
# Expired tokens are kept a while so that they answer "expired", not "unknown".
EXPIRED_TOKEN_RETENTION_MS = 7 * 24 * 3600 * 1000

PASSWORD = "password"
ACCESS_KEY = "hw_ak_sk"


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
        stored = row.password_hash if row is not None else decoy_hash()
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

    @property
    def checks_in_process(self) -> bool:
        """Whether a token check stays in this process: on SQLite (in WAL mode a
        reader never waits for a writer) it is an index probe of some tens of µs."""
        return self.db.is_sqlite

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
