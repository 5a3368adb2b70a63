"""``VisualizationJob``: the legacy SDK's TensorBoard jobs over the v1 API (SDK.md §5.3).

from trainjobs.sdk.session import Session
from trainjobs.sdk.visualization import VisualizationJob

session = Session()
job = VisualizationJob(session).create_visualization_job(train_url="/bucket/logs/")
print(job.get_visualization_job_info()["service_url"])
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table

from trainjobs.sdk.client import Id
from trainjobs.sdk.errors import InvalidArgument
from trainjobs.sdk.session import Session


class VisualizationJob:
    def __init__(self, modelarts_session: Session, visualization_id: Id | None = None) -> None:
        self.session = modelarts_session
        self.visualization_id = visualization_id

    @property
    def _id(self) -> Id:
        if self.visualization_id is None:
            raise InvalidArgument(
                "ModelArts.0104",
                "this VisualizationJob has no visualization_id: create one first, or pass "
                "visualization_id"
            )
        return self.visualization_id

    def create_visualization_job(
        self, train_url: str, job_name: str | None = None, job_desc: str | None = None
    ) -> VisualizationJob:
        """Start a TensorBoard over ``train_url``; the new job's handle."""
        body: dict[str, Any] = {
            "job_name": job_name or f"viz-{time.strftime('%m%d%H%M%S')}",
            "train_url": train_url,
        }
        if job_desc is not None:
            body["job_desc"] = job_desc
        created = self.session.client.create_visualization(body)
        return VisualizationJob(self.session, created["job_id"])

    @classmethod
    def get_visualization_job_list(
        cls,
        modelarts_session: Session,
        status: str | None = None,
        per_page: int = 10,
        page: int = 1,
        sortBy: str = "job_id",  # noqa: N803 - the legacy SDK's name
        order: str = "asc",
        search_content: str | None = None,
        sort_by: str | None = None,
    ) -> dict[str, Any]:
        return modelarts_session.client.list_visualizations(
            status=status,
            per_page=per_page,
            page=page,
            sort_by=sort_by or sortBy,
            order=order,
            search_content=search_content,
        )

    @classmethod
    def get_visualization_job_object_list(
        cls, modelarts_session: Session, is_show: bool = True, **query: Any
    ) -> list[VisualizationJob]:
        listed = cls.get_visualization_job_list(modelarts_session, **query)
        jobs = listed.get("jobs", [])
        if is_show:
            table = Table("job_id", "job_name", "status", "service_url")
            for job in jobs:
                table.add_row(
                    str(job["job_id"]), str(job["job_name"]), str(job["status"]),
                    str(job["service_url"]),
                )  # fmt: skip
            Console().print(table)
        return [VisualizationJob(modelarts_session, job["job_id"]) for job in jobs]

    def get_visualization_job_info(self) -> dict[str, Any]:
        return self.session.client.visualization(self._id)

    def update_visualization_job(self, job_desc: str) -> dict[str, Any]:
        return self.session.client.visualization(
            self._id, method="PUT", body={"job_desc": job_desc}
        )

    def stop_visualization_job(self) -> dict[str, Any]:
        return self.session.client.visualization(self._id, "stop", method="POST")

    def restart_visualization_job(self) -> dict[str, Any]:
        return self.session.client.visualization(self._id, "restart", method="POST")

    def delete_visualization_job(self) -> dict[str, Any]:
        return self.session.client.visualization(self._id, method="DELETE")
