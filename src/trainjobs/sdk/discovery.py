"""Where the service is and which token to use, found the same way by the SDK and the CLI.

Each value is taken from the first place that has it: an explicit argument,
then the environment (``TRAINJOBS_ENDPOINT``, ``TRAINJOBS_TOKEN``,
``TRAINJOBS_PROJECT_ID``), then ``credentials.json`` in the data dir
(``TRAINJOBS_DATA_DIR``, default ``./trainjobs-data``), which ``trainjobs serve``
writes on its first start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from trainjobs.objectstore import location
from trainjobs.sdk.errors import CredentialsNotFound
from trainjobs.settings import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT

CREDENTIALS_FILE = "credentials.json"
ENV_ENDPOINT = "TRAINJOBS_ENDPOINT"
ENV_TOKEN = "TRAINJOBS_TOKEN"
ENV_PROJECT_ID = "TRAINJOBS_PROJECT_ID"
ENV_DATA_DIR = "TRAINJOBS_DATA_DIR"
DEFAULT_ENDPOINT = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


@dataclass(frozen=True)
class Credentials:
    endpoint: str
    token: str
    project_id: str
    data_dir: Path

    @property
    def object_store_url(self) -> str:
        """The object store the service in this data dir uses (``<data-dir>/obs`` by default;
        see ``trainjobs.objectstore.location``)."""
        return location.for_clients(self.data_dir).url

    @property
    def obs_endpoint(self) -> str:
        """The S3 endpoint of that store; "" for a local one."""
        return location.for_clients(self.data_dir).endpoint


def data_dir_from_env(data_dir: str | os.PathLike[str] | None = None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    return Path(os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR)


def read_credentials_file(data_dir: Path) -> dict[str, str]:
    path = data_dir / CREDENTIALS_FILE
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialsNotFound(f"{path} cannot be read as JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise CredentialsNotFound(f"{path} does not hold a JSON object")
    return {k: str(v) for k, v in loaded.items() if isinstance(v, str | int)}


def discover(
    endpoint: str | None = None,
    token: str | None = None,
    project_id: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Credentials:
    """The endpoint, token and project to use; raises ``CredentialsNotFound`` naming
    what is missing and where it was looked for."""
    env = os.environ
    folder = data_dir_from_env(data_dir)
    endpoint = endpoint or env.get(ENV_ENDPOINT) or None
    token = token or env.get(ENV_TOKEN) or None
    project_id = project_id or env.get(ENV_PROJECT_ID) or None
    if not (endpoint and token and project_id):
        stored = read_credentials_file(folder)
        endpoint = endpoint or stored.get("endpoint") or None
        token = token or stored.get("token") or None
        project_id = project_id or stored.get("project_id") or None
    if not token or not project_id:
        missing = " and no ".join(
            name for name, value in (("token", token), ("project id", project_id)) if not value
        )
        where = (folder / CREDENTIALS_FILE).resolve()
        raise CredentialsNotFound(
            f"no {missing} found: set {ENV_TOKEN} and {ENV_PROJECT_ID}, "
            f"or point {ENV_DATA_DIR} at the data dir of `trainjobs serve` "
            f"(looked for {where})"
        )
    return Credentials(
        endpoint=(endpoint or DEFAULT_ENDPOINT).rstrip("/"),
        token=token,
        project_id=project_id,
        data_dir=folder,
    )
