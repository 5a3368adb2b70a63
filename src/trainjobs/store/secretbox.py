"""Secrets at rest: access-key secrets are stored encrypted under a key kept outside the database.

The key is a Fernet key (AES-128-CBC with HMAC-SHA256, from ``cryptography``)
in a file of mode 0600: ``secret.key`` in the data dir by default, or the file
``TRAINJOBS_SECRET_KEY_FILE`` names (servers sharing one database must share
it). A copy of the database without the key file yields no usable secret.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SEALED_PREFIX = "fernet:"


class SecretKeyError(Exception):
    """The key file is missing, unreadable or not the one the secrets were sealed with."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def at(cls, path: Path) -> SecretBox:
        """The box of the key file at ``path``, creating the file (0600) on first use."""
        return cls(load_or_create_key(path))

    def seal(self, secret: str) -> str:
        return SEALED_PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def unseal(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored  # written before secrets were sealed; the migration seals them
        try:
            return self._fernet.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret does not open with this key file: the server was given "
                "another key than the one the secrets were sealed with (TRAINJOBS_SECRET_KEY_FILE)"
            ) from exc


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def load_or_create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        # O_EXCL: two servers starting at once on one data dir agree on one key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {exc}") from exc
    with os.fdopen(fd, "rb") as f:
        key = f.read().strip()
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)  # only the server may read it
    try:
        Fernet(key)
    except ValueError as exc:
        raise SecretKeyError(f"the secret key file {path} does not hold a Fernet key") from exc
    return key
