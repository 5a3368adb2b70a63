"""Routes of /v1/{project_id}/visualization-jobs (V1-V7)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, Field, field_validator

from trainjobs.api.auth import require_project
from trainjobs.api.v1 import schemas
from trainjobs.api.v1.training_jobs import _statuses
from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.tensorboards import duration_of, path_prefix
from trainjobs.domain.visualization import VisualizationService

router = APIRouter(prefix="/v1/{project_id}/visualization-jobs", tags=["visualization jobs"])

Project = Annotated[str, Depends(require_project)]
JobId = Annotated[
    int, Path(ge=1, le=schemas.MAX_ID, description="ID of a visualization job (digits)")
]
SortKey = Literal["job_id", "job_name", "job_desc", "create_time", "status", "duration"]
OK: dict[str, Any] = {"is_success": True}


class ScheduleIn(schemas.Lenient):
    type: Annotated[str, Field(max_length=16)] = "stop"
    time_unit: Annotated[str, Field(max_length=16)] = "HOURS"
    duration: Annotated[int, BeforeValidator(schemas._no_bool), Field(ge=0, le=24)] = 0

    @field_validator("type")
    @classmethod
    def _stop(cls, value: str) -> str:
        if value.lower() != "stop":
            raise ValueError("the only schedule type is 'stop'")
        return "stop"

    @field_validator("time_unit")
    @classmethod
    def _hours(cls, value: str) -> str:
        if value.upper() != "HOURS":
            raise ValueError("the only time_unit is 'HOURS'")
        return "HOURS"


def _one_schedule(value: Any) -> Any:
    # The source sample sends a one-item array; the field table says object.
    if isinstance(value, list):
        if len(value) > 1:
            raise ValueError("give one schedule (an object, or an array of one)")
        return value[0] if value else None
    return value


class CreateVisualizationIn(schemas.Lenient):
    job_name: Annotated[str, Field(min_length=1, max_length=20, pattern=schemas.NAME_PATTERN)]
    job_desc: Annotated[str, Field(max_length=256)] = ""
    train_url: Annotated[str, Field(min_length=1, max_length=schemas.URL_CHARS)]
    job_type: Annotated[str, Field(max_length=32)] = "tensorboard"
    flavor: dict[str, Any] | None = None
    schedule: Annotated[ScheduleIn | None, BeforeValidator(_one_schedule)] = None

    @field_validator("job_desc", "job_type", mode="before")
    @classmethod
    def _null_is_default(cls, value: Any, info: Any) -> Any:
        if value is None:
            return "tensorboard" if info.field_name == "job_type" else ""
        return value


class UpdateVisualizationIn(schemas.Lenient):
    job_desc: Annotated[str, Field(max_length=256)]


def service(request: Request) -> VisualizationService:
    viz: VisualizationService = request.app.state.services.visualization
    return viz


def service_url(request: Request, project_id: str, job_id: int) -> str:
    """The proxy's address, as the caller reached this server."""
    return str(request.base_url).rstrip("/") + path_prefix(project_id, job_id) + "/"


def job_fields(request: Request, row: sa.Row, now: int) -> dict[str, Any]:
    return {
        "job_id": row.id,
        "job_name": row.job_name,
        "job_desc": row.job_desc,
        "status": row.status,
        "create_time": row.create_time,
        "duration": duration_of(row, now),
        "service_url": service_url(request, row.project_id, row.id),
        "train_url": row.train_url,
        "resource_id": row.resource_id,
    }


@router.post("")
def create_visualization(
    body: CreateVisualizationIn, project_id: Project, request: Request
) -> JSONResponse:
    job_type = body.job_type.lower()
    if job_type == "mindinsight":
        raise errors.InvalidParameter(
            "job_type mindinsight is not available on this server; use tensorboard"
        )
    if job_type != "tensorboard":
        raise errors.InvalidParameter(f"job_type must be tensorboard, not '{body.job_type}'")
    row = service(request).create(
        project_id,
        job_name=body.job_name,
        job_desc=body.job_desc,
        train_url=body.train_url,
        job_type=job_type,
        schedule_hours=body.schedule.duration if body.schedule else 0,
    )
    return JSONResponse(
        {
            "is_success": True,
            "job_id": row.id,
            "job_name": row.job_name,
            "status": row.status,
            "create_time": row.create_time,
            "service_url": service_url(request, project_id, row.id),
        }
    )


@router.get("")
def list_visualizations(
    project_id: Project,
    request: Request,
    status: Annotated[str, Query(max_length=128)] = "",
    per_page: Annotated[int, Query(ge=1, le=1000)] = 10,
    page: Annotated[int, Query(ge=1, le=65535)] = 1,
    sortBy: Annotated[SortKey | None, Query()] = None,  # noqa: N803 - the wire name
    sort_by: Annotated[SortKey | None, Query()] = None,
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    search_content: Annotated[str, Query(max_length=100)] = "",
    workspace_id: Annotated[str, Query(max_length=64)] = "0",
) -> JSONResponse:
    viz = service(request)
    total, left, rows = viz.list(
        project_id,
        statuses=_statuses(status),
        search=search_content,
        sort_by=sortBy or sort_by or "job_id",
        descending=order == "desc",
        page=page,
        per_page=per_page,
    )
    now = now_ms()
    return JSONResponse(
        {
            "is_success": True,
            "quotas": viz.quota,
            "job_total_count": total,
            "job_count_limit": left,
            "jobs": [job_fields(request, row, now) for row in rows],
        }
    )


@router.get("/{job_id}")
def get_visualization(job_id: JobId, project_id: Project, request: Request) -> JSONResponse:
    row = service(request).get(project_id, job_id)
    body = {"is_success": True, **job_fields(request, row, now_ms())}
    body["failure_reason"] = row.failure_reason
    return JSONResponse(body)


@router.put("/{job_id}")
def update_visualization(
    job_id: JobId, body: UpdateVisualizationIn, project_id: Project, request: Request
) -> JSONResponse:
    service(request).update(project_id, job_id, body.job_desc)
    return JSONResponse(OK)


@router.delete("/{job_id}")
def delete_visualization(job_id: JobId, project_id: Project, request: Request) -> JSONResponse:
    service(request).delete(project_id, job_id)
    return JSONResponse(OK)


@router.post("/{job_id}/stop")
def stop_visualization(job_id: JobId, project_id: Project, request: Request) -> JSONResponse:
    service(request).stop(project_id, job_id)
    return JSONResponse(OK)


@router.post("/{job_id}/restart")
def restart_visualization(job_id: JobId, project_id: Project, request: Request) -> JSONResponse:
    service(request).restart(project_id, job_id)
    return JSONResponse(OK)
