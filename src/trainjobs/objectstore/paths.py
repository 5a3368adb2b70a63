"""OBS-style paths: ``/bucket/key``, ``obs://bucket/key`` or ``s3://bucket/key``.

Parsing is where escapes are refused: a path that names ``.`` or ``..``, a
backslash or a control character never reaches a filesystem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PATH_CHARS = 1024
_SCHEMES = ("obs://", "s3://")
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class InvalidObsPath(ValueError):
    pass


@dataclass(frozen=True)
class ObsPath:
    bucket: str
    key: str  # "" for the bucket itself; never starts or ends with "/"

    @property
    def fs_path(self) -> str:
        """The path relative to the store's root, as fsspec takes it."""
        return f"{self.bucket}/{self.key}" if self.key else self.bucket

    def join(self, *parts: str) -> ObsPath:
        key = "/".join(p for p in (self.key, *parts) if p)
        return parse_obs_path(f"/{self.bucket}/{key}")

    def contains(self, other: ObsPath) -> bool:
        if self.bucket != other.bucket:
            return False
        return not self.key or other.key == self.key or other.key.startswith(self.key + "/")

    def relative_to(self, parent: ObsPath) -> str:
        if not parent.contains(other=self):
            raise InvalidObsPath(f"{self} is not inside {parent}")
        return self.key[len(parent.key) :].lstrip("/")

    def __str__(self) -> str:
        return f"/{self.fs_path}"


def parse_obs_path(text: str) -> ObsPath:
    if not isinstance(text, str) or not text:
        raise InvalidObsPath("an object-store path is required, like /bucket/folder/")
    if len(text) > MAX_PATH_CHARS:
        raise InvalidObsPath(f"an object-store path has at most {MAX_PATH_CHARS} characters")
    rest = text
    for scheme in _SCHEMES:
        if text.lower().startswith(scheme):
            rest = text[len(scheme) :]
            break
    else:
        if not text.startswith("/"):
            raise InvalidObsPath(
                f"'{text}' is not an object-store path: write /bucket/key, obs://bucket/key "
                "or s3://bucket/key"
            )
        rest = text[1:]
    if any(ord(ch) < 32 or ch in "\\\x7f" for ch in rest):
        raise InvalidObsPath(f"'{text}' contains a backslash or a control character")
    parts = [p for p in rest.split("/") if p != ""]
    if not parts:
        raise InvalidObsPath(f"'{text}' names no bucket: write /bucket/key")
    if any(p in (".", "..") for p in parts):
        raise InvalidObsPath(f"'{text}' tries to leave its bucket ('.' and '..' are not allowed)")
    bucket, key_parts = parts[0], parts[1:]
    if not _BUCKET.match(bucket):
        raise InvalidObsPath(
            f"'{bucket}' is not a valid bucket name (letters, digits, '.', '_', '-'; "
            "at most 63 characters)"
        )
    return ObsPath(bucket=bucket, key="/".join(key_parts))
