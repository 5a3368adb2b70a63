"""The v1 API over HTTP: one method per endpoint, each returning the service's JSON unchanged.

Both the SDK classes and the CLI sit on this; it is the only module that talks HTTP.
Every failure comes out as a ``ModelArtsError``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx

from trainjobs import __version__
from trainjobs.sdk.discovery import Credentials, discover
from trainjobs.sdk.errors import (
    BAD_RESPONSE,
    CLIENT_ERROR,
    UNREACHABLE,
    ModelArtsError,
    ServiceUnreachable,
)

DEFAULT_TIMEOUT_S = 30.0
Id = int | str


def _seg(value: Id) -> str:
    # Ids go into the path; quoting keeps a stray "/" or "?" from changing the endpoint.
    return quote(str(value).strip(), safe="")


class ApiClient:
    def __init__(self, credentials: Credentials, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.credentials = credentials
        self.endpoint = credentials.endpoint
        self._http = httpx.Client(
            base_url=credentials.endpoint,
            headers={
                "X-Auth-Token": credentials.token,
                "User-Agent": f"trainjobs-sdk/{__version__}",
            },
            timeout=timeout_s,
        )

    @classmethod
    def discover(
        cls,
        endpoint: str | None = None,
        token: str | None = None,
        project_id: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> ApiClient:
        return cls(discover(endpoint, token, project_id, data_dir))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def v1(self) -> str:
        return f"/v1/{_seg(self.credentials.project_id)}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one call; return the success body or raise ``ModelArtsError``."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=json)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServiceUnreachable(self.endpoint) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ModelArtsError(
                CLIENT_ERROR,
                f"'{self.endpoint}' is not a usable endpoint: write it like http://127.0.0.1:8080",
            ) from exc
        except httpx.TimeoutException as exc:
            raise ModelArtsError(
                UNREACHABLE,
                f"the trainjobs service at {self.endpoint} did not answer in time ({exc})",
            ) from exc
        except httpx.TransportError as exc:
            raise ModelArtsError(
                UNREACHABLE, f"the connection to {self.endpoint} failed: {exc}"
            ) from exc
        return self._body(response)

    def _body(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ModelArtsError(
                BAD_RESPONSE,
                f"{self.endpoint} answered HTTP {response.status_code} without the ModelArts "
                "JSON envelope: is the endpoint a trainjobs service?",
                response.status_code,
            )
        if response.is_error or body.get("is_success") is False:
            code = str(body.get("error_code") or BAD_RESPONSE)
            message = str(body.get("error_message") or body.get("error_msg") or response.text)
            raise ModelArtsError(code, message, response.status_code)
        return body

    # -- training jobs (T1-T4) ------------------------------------------------

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{self.v1}/training-jobs", json=body)

    def list_jobs(
        self,
        status: str | int | None = None,
        per_page: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
        search_content: str | None = None,
        workspace_id: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "status": None if status is None else str(status),
            "per_page": per_page,
            "page": page,
            "sortBy": sort_by,
            "order": order,
            "search_content": search_content,
            "workspace_id": workspace_id,
        }
        return self.request("GET", f"{self.v1}/training-jobs", params=params)

    def update_job(self, job_id: Id, job_desc: str) -> dict[str, Any]:
        return self.request(
            "PUT", f"{self.v1}/training-jobs/{_seg(job_id)}", json={"job_desc": job_desc}
        )

    def delete_job(self, job_id: Id) -> dict[str, Any]:
        return self.request("DELETE", f"{self.v1}/training-jobs/{_seg(job_id)}")

    # -- versions (T5-T9) -----------------------------------------------------

    def create_version(self, job_id: Id, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{self.v1}/training-jobs/{_seg(job_id)}/versions", json=body)

    def list_versions(self, job_id: Id, page: int = 0, per_page: int = 10) -> dict[str, Any]:
        return self.request(
            "GET",
            f"{self.v1}/training-jobs/{_seg(job_id)}/versions",
            params={"page": page, "per_page": per_page},
        )

    def _version_path(self, job_id: Id, version_id: Id) -> str:
        return f"{self.v1}/training-jobs/{_seg(job_id)}/versions/{_seg(version_id)}"

    def get_version(self, job_id: Id, version_id: Id) -> dict[str, Any]:
        return self.request("GET", self._version_path(job_id, version_id))

    def delete_version(self, job_id: Id, version_id: Id) -> dict[str, Any]:
        return self.request("DELETE", self._version_path(job_id, version_id))

    def stop_version(self, job_id: Id, version_id: Id) -> dict[str, Any]:
        return self.request("POST", self._version_path(job_id, version_id) + "/stop")

    def rerun_version(self, job_id: Id, version_id: Id) -> dict[str, Any]:
        """A new version that runs exactly the code snapshot of ``version_id`` with
        its configuration (a trainjobs addition)."""
        body = {"rerun_of": int(version_id), "config": {}}
        return self.request("POST", f"{self.v1}/training-jobs/{_seg(job_id)}/versions", json=body)

    def diff_versions(self, job_id: Id, a: Id, b: Id) -> dict[str, Any]:
        """How version ``b`` differs from ``a``: configuration, parameters, metrics, code."""
        return self.request("GET", self._version_path(job_id, a) + f"/diff/{_seg(b)}")

    # -- logs (L1, L2) --------------------------------------------------------

    def log_file_names(self, job_id: Id, version_id: Id) -> dict[str, Any]:
        return self.request("GET", self._version_path(job_id, version_id) + "/log/file-names")

    def aom_log(
        self,
        job_id: Id,
        version_id: Id,
        log_file: str,
        lines: int = 50,
        base_line: str = "",
        order: str = "desc",
    ) -> dict[str, Any]:
        params = {"log_file": log_file, "lines": lines, "base_line": base_line, "order": order}
        return self.request(
            "GET", self._version_path(job_id, version_id) + "/aom-log", params=params
        )

    # -- training-job configurations (C1-C5) and built-in algorithms (T10) ----

    def create_config(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{self.v1}/training-job-configs", json=body)

    def list_configs(
        self,
        per_page: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
        search_content: str | None = None,
        config_type: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "per_page": per_page,
            "page": page,
            "sortBy": sort_by,
            "order": order,
            "search_content": search_content,
            "config_type": config_type,
        }
        return self.request("GET", f"{self.v1}/training-job-configs", params=params)

    def get_config(self, config_name: str) -> dict[str, Any]:
        return self.request("GET", f"{self.v1}/training-job-configs/{_seg(config_name)}")

    def update_config(self, config_name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"{self.v1}/training-job-configs/{_seg(config_name)}", json=body)

    def delete_config(self, config_name: str) -> dict[str, Any]:
        return self.request("DELETE", f"{self.v1}/training-job-configs/{_seg(config_name)}")

    def built_in_algorithms(self) -> dict[str, Any]:
        return self.request("GET", f"{self.v1}/built-in-algorithms")

    # -- visualization jobs (V1-V7) -------------------------------------------

    def create_visualization(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{self.v1}/visualization-jobs", json=body)

    def list_visualizations(self, **query: Any) -> dict[str, Any]:
        """Query names as V2 takes them (``sort_by`` is sent as ``sortBy``)."""
        if "sort_by" in query:
            query["sortBy"] = query.pop("sort_by")
        params = {k: None if v is None else str(v) for k, v in query.items()}
        return self.request("GET", f"{self.v1}/visualization-jobs", params=params)

    def visualization(self, job_id: Id, action: str = "", method: str = "GET",
                      body: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        """One visualization job: details (GET), PUT, DELETE, or the stop/restart action."""
        path = f"{self.v1}/visualization-jobs/{_seg(job_id)}" + (f"/{action}" if action else "")
        return self.request(method, path, json=body)

    # -- catalogue (R1, R2) ---------------------------------------------------

    def resource_specs(self, job_type: str | None = "train") -> dict[str, Any]:
        return self.request("GET", f"{self.v1}/job/resource-specs", params={"job_type": job_type})

    def ai_engines(self, job_type: str | None = "train") -> dict[str, Any]:
        return self.request("GET", f"{self.v1}/job/ai-engines", params={"job_type": job_type})
