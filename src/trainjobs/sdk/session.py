"""``Session``: where the service is, who is calling, and the OBS helper.

Legacy scripts construct it in one of three ways (no arguments; account and
password; access key and secret key). trainjobs authenticates with the token
that ``trainjobs serve`` writes to ``credentials.json``, so the legacy
credential arguments are accepted and otherwise ignored; ``project_id`` and
``region_name`` are kept.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import ClassVar

from trainjobs.sdk.client import DEFAULT_TIMEOUT_S, ApiClient
from trainjobs.sdk.discovery import Credentials, discover
from trainjobs.sdk.object_access import Access, open_store
from trainjobs.sdk.obs import Obs
from trainjobs.sdk.watch import DEFAULT_POLL_S

DEFAULT_REGION = "local"


class Session:
    # Set by ``Session.set_endpoint`` before constructing, as the legacy SDK did.
    _defaults: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        project_id: str | None = None,
        region_name: str | None = None,
        account: str | None = None,
        username: str | None = None,
        password: str | None = None,
        endpoint: str | None = None,
        token: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        poll_interval_s: float = DEFAULT_POLL_S,
    ) -> None:
        """Find the service and its credentials (see ``trainjobs.sdk.discovery``).

        ``endpoint`` and ``token`` override what would be found; ``data_dir``
        names the data dir of ``trainjobs serve`` when it is not the default.
        """
        defaults = type(self)._defaults
        self.credentials: Credentials = discover(
            endpoint or defaults.get("modelarts_endpoint"), token, project_id, data_dir
        )
        self.project_id = self.credentials.project_id
        self.region_name = region_name or defaults.get("region_name") or DEFAULT_REGION
        self.poll_interval_s = poll_interval_s
        self.client = ApiClient(self.credentials, timeout_s=timeout_s)
        store_url = defaults.get("obs_endpoint", "")
        object_endpoint = ""
        if store_url.lower().startswith(("http://", "https://")):
            # An OBS-style endpoint URL: the server's object endpoint.
            object_endpoint, store_url = store_url, ""
        access = Access(
            data_dir=self.credentials.data_dir,
            project_id=self.credentials.project_id,
            endpoint=self.credentials.endpoint,
            token=self.credentials.token,
            access_key=access_key or "",
            secret_key=secret_key or "",
            object_endpoint=object_endpoint,
        )
        self.obs = Obs(
            store_url or self.credentials.object_store_url,
            self.credentials.project_id,
            self.credentials.obs_endpoint,
            opener=None if store_url else (lambda: open_store(access)),
        )

    @classmethod
    def set_endpoint(
        cls,
        iam_endpoint: str | None = None,
        obs_endpoint: str | None = None,
        modelarts_endpoint: str | None = None,
        region_name: str | None = None,
    ) -> None:
        """Set where later sessions connect: ``modelarts_endpoint`` is the trainjobs
        service's URL and ``obs_endpoint`` its object store (a folder or an fsspec
        URL such as ``s3://``). ``iam_endpoint`` has no use here (tokens come from
        ``credentials.json``) and is ignored."""
        for key, value in (
            ("obs_endpoint", obs_endpoint),
            ("modelarts_endpoint", modelarts_endpoint),
            ("region_name", region_name),
        ):
            if value:
                cls._defaults[key] = value

    @classmethod
    def reset_endpoint(cls) -> None:
        """Forget what ``set_endpoint`` set (a trainjobs addition)."""
        cls._defaults.clear()

    @property
    def endpoint(self) -> str:
        return self.credentials.endpoint

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session(endpoint={self.endpoint!r}, project_id={self.project_id!r})"
