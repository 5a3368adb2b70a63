"""``mox.file``: ModelArts' file API over local paths, ``obs://`` and ``s3://``.

Object paths go to the S3-compatible endpoint in ``S3_ENDPOINT`` with the key in
``ACCESS_KEY_ID`` / ``SECRET_ACCESS_KEY`` (or the ``AWS_`` names), unless
``set_auth`` says otherwise.
"""

from __future__ import annotations

from typing import Any

from . import _remote
from ._copying import copy, copy_parallel, rename
from ._fileobj import File
from ._ops import (
    FileStat,
    append,
    exists,
    get_size,
    glob,
    is_directory,
    list_directory,
    make_dirs,
    mk_dir,
    read,
    remove,
    stat,
    walk,
    write,
)
from ._shift import shift


def set_auth(
    ak: str | None = None,
    sk: str | None = None,
    server: str | None = None,
    port: int | None = None,
    is_secure: bool | None = None,
    ssl_verify: bool | None = None,
    security_token: str | None = None,
    region: str | None = None,
    **_: Any,
) -> None:
    """Use this access key, endpoint (``server``, with ``port``) or TLS setting
    instead of the environment's for object paths from now on."""
    _remote.set_auth(
        ak=ak,
        sk=sk,
        server=server,
        port=port,
        is_secure=is_secure,
        ssl_verify=ssl_verify,
        security_token=security_token,
        region=region,
    )


is_dir = is_directory
mkdir = mk_dir
makedirs = make_dirs
listdir = list_directory

__all__ = [
    "File",
    "FileStat",
    "append",
    "copy",
    "copy_parallel",
    "exists",
    "get_size",
    "glob",
    "is_dir",
    "is_directory",
    "list_directory",
    "listdir",
    "make_dirs",
    "makedirs",
    "mk_dir",
    "mkdir",
    "read",
    "remove",
    "rename",
    "set_auth",
    "shift",
    "stat",
    "walk",
    "write",
]
