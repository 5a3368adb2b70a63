"""Which object store a data dir's service uses, so the clients beside it use it too.

``trainjobs serve`` records its store's URL and S3 endpoint in
``<data-dir>/store.json`` (never credentials: those stay in each process's
environment). A client takes each value from the environment
(``TRAINJOBS_OBJECT_STORE_URL``, ``TRAINJOBS_OBS_ENDPOINT``) first, then from
that file, then the default: the folder ``<data-dir>/obs``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

STORE_FILE = "store.json"
ENV_OBJECT_STORE_URL = "TRAINJOBS_OBJECT_STORE_URL"
ENV_OBS_ENDPOINT = "TRAINJOBS_OBS_ENDPOINT"


@dataclass(frozen=True)
class StoreLocation:
    url: str = ""  # "": the folder <data-dir>/obs
    endpoint: str = ""  # the S3 service's URL; "" for AWS itself or a local store


def record(data_dir: Path, url: str, endpoint: str) -> None:
    """Write what the server in ``data_dir`` uses; a local folder is written absolute,
    since the clients reading it may run from anywhere."""
    if url and "://" not in url:
        url = str(Path(url).resolve())
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / STORE_FILE
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps({"object_store_url": url, "obs_endpoint": endpoint}) + "\n")
    # Whole or not at all: a client may read it while the server starts.
    partial.replace(path)


def recorded(data_dir: Path) -> StoreLocation:
    """What the server in ``data_dir`` recorded; the defaults when it recorded nothing."""
    try:
        loaded = json.loads((data_dir / STORE_FILE).read_text())
    except (OSError, ValueError):
        return StoreLocation()
    if not isinstance(loaded, dict):
        return StoreLocation()
    return StoreLocation(
        url=str(loaded.get("object_store_url") or ""),
        endpoint=str(loaded.get("obs_endpoint") or ""),
    )


def for_clients(data_dir: Path) -> StoreLocation:
    """The store a client beside the service in ``data_dir`` should use."""
    stored = recorded(data_dir)
    url = os.environ.get(ENV_OBJECT_STORE_URL) or stored.url
    endpoint = os.environ.get(ENV_OBS_ENDPOINT) or stored.endpoint
    return StoreLocation(url=url or str((data_dir / "obs").resolve()), endpoint=endpoint)
