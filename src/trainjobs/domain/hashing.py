"""How secrets are kept: tokens as SHA-256 digests, passwords as scrypt hashes.

The token and the password are only ever hashed; neither is stored nor logged.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

# scrypt at n=2^15, r=8 takes 32 MiB and tens of milliseconds a guess: a leaked
# hash costs an attacker that much per password tried.
SCRYPT_LOG2_N = 15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_KEY_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
def decoy_hash() -> str:
    # Checked against when the user does not exist, so that an unknown name
    # takes as long to refuse as a wrong password.
    return hash_password(secrets.token_urlsafe(16))
