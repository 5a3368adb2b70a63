"""A version's ``volumes``: host folders bound into its sandbox, or a clear refusal.

A ``host_path`` volume shows the host folder ``src_path`` at ``dest_path``
inside every worker's sandbox (read-only when ``read_only`` is true). Only
folders under the operator's allow-list (``TRAINJOBS_HOST_PATH_ALLOW``, empty
by default) may be bound, so a project cannot mount the host's ``/`` or the
data dir. ``nfs`` volumes are refused: this server does not mount network
shares for runs (mount the share on the host and allow it as a host_path).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trainjobs.domain import errors
from trainjobs.executors.base import Bind

# Where a volume may not appear inside the sandbox: the system the run needs intact.
RESERVED_DESTS = ("/", "/proc", "/dev", "/usr", "/etc", "/sys", "/bin", "/sbin", "/lib", "/lib64")


def check(volumes: Sequence[Mapping[str, Any]], allowed: Sequence[str], hidden: Path) -> None:
    """Refuse (400) a volume this server will not provide, saying why and what to do."""
    for index, volume in enumerate(volumes):
        where = f"volumes[{index}]"
        if volume.get("nfs"):
            raise errors.InvalidParameter(
                f"{where}: nfs volumes are not available on this server (it does not mount "
                "network shares for runs); mount the share on the host and ask the operator "
                "to allow it as a host_path volume (TRAINJOBS_HOST_PATH_ALLOW)"
            )
        mount = volume.get("host_path") or {}
        src, dest = str(mount.get("src_path", "")), str(mount.get("dest_path", ""))
        if not os.path.isabs(src) or not os.path.isabs(dest):
            raise errors.InvalidParameter(f"{where}: src_path and dest_path must be absolute paths")
        real = os.path.realpath(src)
        if not os.path.isdir(real):
            raise errors.InvalidParameter(f"{where}: src_path {src} is not a folder on the host")
        if not any(_within(real, os.path.realpath(a)) for a in allowed):
            shown = ", ".join(allowed) if allowed else "none: the allow-list is empty"
            raise errors.InvalidParameter(
                f"{where}: src_path {src} is not among the host folders the operator allows "
                f"for volumes ({shown}; set by TRAINJOBS_HOST_PATH_ALLOW)"
            )
        data_dir = os.path.realpath(hidden)
        if _within(real, data_dir) or _within(data_dir, real):
            raise errors.InvalidParameter(
                f"{where}: src_path {src} holds or is inside the service's data folder"
            )
        norm = os.path.normpath(dest)
        if norm in RESERVED_DESTS or norm.startswith(("/proc/", "/dev/", "/usr/", "/etc/")):
            raise errors.InvalidParameter(
                f"{where}: dest_path {dest} is a system folder; choose another, e.g. /mnt/data"
            )


def volume_binds(volumes: Iterable[Mapping[str, Any]]) -> list[Bind]:
    """The sandbox binds of a version's (checked) host_path volumes."""
    binds = []
    for volume in volumes:
        mount = volume.get("host_path")
        if mount:
            binds.append(
                Bind(
                    Path(os.path.realpath(mount["src_path"])),
                    Path(os.path.normpath(mount["dest_path"])),
                    read_only=bool(mount.get("read_only", False)),
                )
            )
    return binds


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
