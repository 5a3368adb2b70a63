"""Keys of the object endpoint: users' access keys and temporary ones.

A temporary key is scoped to one project. One issued for a token lives at most
as long as the token (and dies with it if the token is revoked); one issued for
a run (``TemporaryKeys.issue``) lives until ``revoke`` at the run's end.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass, field

from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.hashing import hash_token
from trainjobs.domain.identity import IdentityService
from trainjobs.store import temporary_keys as q
from trainjobs.store.database import Database

TEMPORARY_AK_PREFIX = "TMP"  # tells a temporary key from a user's at a glance
AK_ALPHABET = string.ascii_uppercase + string.digits
SK_ALPHABET = string.ascii_letters + string.digits
AK_LENGTH = 20
SK_LENGTH = 40
MIN_DURATION_S = 900  # IAM's bounds for temporary credentials
MAX_DURATION_S = 24 * 3600
DEFAULT_DURATION_S = 900
# A key looked up is trusted this long before it is read again, so the endpoint
# does not ask the database once per request; revoking takes effect within it.
LOOKUP_CACHE_S = 2.0
LOOKUP_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class ObjectKey:
    secret: str = field(repr=False)
    project_id: str


@dataclass(frozen=True)
class TemporaryKey:
    access: str
    secret: str = field(repr=False)
    project_id: str = ""
    expires_at_ms: int = 0


def _new_pair() -> tuple[str, str]:
    ak = TEMPORARY_AK_PREFIX + "".join(
        secrets.choice(AK_ALPHABET) for _ in range(AK_LENGTH - len(TEMPORARY_AK_PREFIX))
    )
    sk = "".join(secrets.choice(SK_ALPHABET) for _ in range(SK_LENGTH))
    return ak, sk


class TemporaryKeys:
    """Issues, revokes and looks up the keys the object endpoint accepts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, tuple[ObjectKey | None, float]] = {}
        self._lock = threading.Lock()

    def issue(self, project_id: str, version_id: int) -> tuple[str, str]:
        """A key of ``project_id`` for run ``version_id``, valid until ``revoke``."""
        ak, sk = self.mint()
        self.keep(project_id, version_id, ak, sk)
        return ak, sk

    def mint(self) -> tuple[str, str]:
        """A new key, valid nowhere until ``keep`` stores it."""
        return _new_pair()

    def keep(self, project_id: str, version_id: int, ak: str, sk: str) -> None:
        """Make a minted key one of ``project_id`` for run ``version_id``, until ``revoke``."""
        with self.db.write() as conn:
            sealed = self.db.secrets.seal(sk)
            q.insert(conn, ak, sealed, project_id, now_ms(), 0, version_id=version_id)

    def revoke(self, version_id: int) -> None:
        """End the keys issued for a run."""
        with self.db.write() as conn:
            q.delete_for_version(conn, version_id)
        self.forget()

    def issue_for_token(
        self, identity: IdentityService, token: str, duration_s: int = DEFAULT_DURATION_S
    ) -> TemporaryKey:
        """A key of the token's project, expiring after ``duration_s`` or with the token."""
        if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
            raise errors.InvalidParameter(
                f"duration_seconds must be between {MIN_DURATION_S} and {MAX_DURATION_S}"
            )
        info = identity.token_info(token, token)
        now = now_ms()
        expires = now + duration_s * 1000
        if info.expires_at_ms:
            expires = min(expires, info.expires_at_ms)
        ak, sk = _new_pair()
        with self.db.write() as conn:
            q.prune(conn, now)
            q.insert(
                conn,
                ak,
                self.db.secrets.seal(sk),
                info.project.id,
                now,
                expires,
                token_sha256=hash_token(token),
            )
        return TemporaryKey(ak, sk, info.project.id, expires)

    def lookup(self, access_key: str) -> ObjectKey | None:
        """The secret and project of a valid key; None for an unknown or expired one."""
        now_s = time.monotonic()
        with self._lock:
            cached = self._cache.get(access_key)
        if cached is not None and cached[1] > now_s:
            return cached[0]
        found = self._read(access_key)
        with self._lock:
            if len(self._cache) >= LOOKUP_CACHE_SIZE:
                self._cache.clear()
            self._cache[access_key] = (found, now_s + LOOKUP_CACHE_S)
        return found

    def _read(self, access_key: str) -> ObjectKey | None:
        if not access_key or len(access_key) > 64:
            return None
        with self.db.read() as conn:
            temporary = q.find_temporary(conn, access_key)
            if temporary is not None:
                if temporary.token_revoked:
                    return None
                if temporary.expires_at and temporary.expires_at <= now_ms():
                    return None
                secret = self.db.secrets.unseal(temporary.sk)
                return ObjectKey(secret, temporary.project_id)
            permanent = q.find_permanent(conn, access_key)
        if permanent is None:
            return None
        return ObjectKey(self.db.secrets.unseal(permanent.sk), permanent.project_id)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
