"""Routes of /v1/{project_id}/training-jobs and their versions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from trainjobs.api.auth import identity_of, require_project
from trainjobs.api.v1 import schemas, serializers
from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.jobs import JobService
from trainjobs.statuses import Status

router = APIRouter(prefix="/v1/{project_id}/training-jobs", tags=["training jobs"])

Project = Annotated[str, Depends(require_project)]
JobId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="ID of a training job")]
VersionId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="ID of a version")]
OK: dict[str, Any] = {"is_success": True}


def service(request: Request) -> JobService:
    jobs: JobService = request.app.state.services.jobs
    return jobs


def _statuses(text: str) -> list[int]:
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or int(part) not in Status._value2member_map_:
            raise errors.InvalidParameter(
                f"status '{part}' is not a status code (0-21); several go as a comma list"
            )
        values.append(int(part))
    return values


@router.post("")
def create_job(body: schemas.CreateJobIn, project_id: Project, request: Request) -> JSONResponse:
    created = service(request).create_job(
        project_id,
        job_name=body.job_name,
        job_desc=body.job_desc,
        workspace_id=body.workspace_id,
        config=body.config.sent(),
        create_version=body.config.create_version,
    )
    return JSONResponse(serializers.created_job(created))


@router.get("")
def list_jobs(
    project_id: Project,
    request: Request,
    status: Annotated[str, Query(max_length=128)] = "",
    per_page: Annotated[int, Query(ge=1, le=1000)] = 10,
    page: Annotated[int, Query(ge=1, le=65535)] = 1,
    sortBy: Annotated[schemas.JobSortKey | None, Query()] = None,  # noqa: N803 - the wire name
    sort_by: Annotated[schemas.JobSortKey | None, Query()] = None,
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    search_content: Annotated[str, Query(max_length=64)] = "",
    workspace_id: Annotated[str, Query(max_length=64)] = "0",
) -> JSONResponse:
    result = service(request).list_jobs(
        project_id,
        workspace_id=workspace_id,
        statuses=_statuses(status),
        search=search_content,
        sort_by=sortBy or sort_by or "job_name",
        descending=order == "desc",
        page=page,
        per_page=per_page,
    )
    now = now_ms()
    return JSONResponse(
        {
            "is_success": True,
            "job_total_count": result.total,
            "job_count_limit": result.left,
            "jobs": [serializers.job_item(row, now) for row in result.jobs],
            "quotas": result.quota,
        }
    )


@router.put("/{job_id}")
def update_job(
    job_id: JobId, body: schemas.UpdateJobIn, project_id: Project, request: Request
) -> JSONResponse:
    service(request).update_job(project_id, job_id, body.job_desc)
    return JSONResponse(OK)


@router.delete("/{job_id}")
def delete_job(job_id: JobId, project_id: Project, request: Request) -> JSONResponse:
    service(request).delete_job(project_id, job_id)
    return JSONResponse(OK)


@router.post("/{job_id}/versions")
def create_version(
    job_id: JobId, body: schemas.CreateVersionIn, project_id: Project, request: Request
) -> JSONResponse:
    created = service(request).create_version(
        project_id,
        job_id,
        job_desc=body.job_desc,
        config=body.config.sent(),
        pre_version_id=body.config.pre_version_id,
        rerun_of=body.rerun_of,
    )
    return JSONResponse(serializers.created_version(created))


@router.get("/{job_id}/versions", response_class=Response)
async def list_versions(
    job_id: JobId,
    project_id: Project,
    request: Request,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 10,
    page: Annotated[int, Query(ge=0, le=65535)] = 0,
) -> Response:
    rendered: serializers.RenderedVersions = request.app.state.rendered_versions

    def listing() -> bytes:
        picked, known = rendered.picker()
        result = service(request).list_versions(
            project_id, job_id, page=page, per_page=per_page, known=known
        )
        return serializers.version_list(result.job, result.versions, now_ms(), rendered, picked)

    # The service's busiest read: on a database in this process (index ranges
    # and kept renderings) it is answered here, without a hop to a worker thread.
    in_process = identity_of(request).checks_in_process
    body = listing() if in_process else await run_in_threadpool(listing)
    return Response(body, media_type="application/json")


@router.get("/{job_id}/versions/{version_id}")
async def get_version(
    job_id: JobId, version_id: VersionId, project_id: Project, request: Request
) -> JSONResponse:
    def detail() -> JSONResponse:
        result = service(request).get_version(project_id, job_id, version_id)
        return JSONResponse(serializers.version_detail(result.job, result.versions[0], now_ms()))

    # What clients waiting on a version poll: on a database in this process (two
    # primary-key reads) it is answered here, as the listing is.
    in_process = identity_of(request).checks_in_process
    return detail() if in_process else await run_in_threadpool(detail)


@router.get("/{job_id}/versions/{version_id}/diff/{other_id}")
def diff_versions(
    job_id: JobId,
    version_id: VersionId,
    other_id: Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="ID of a version")],
    project_id: Project,
    request: Request,
) -> JSONResponse:
    """A trainjobs addition: how ``other_id`` differs from ``version_id``."""
    found = service(request).diff_versions(project_id, job_id, version_id, other_id)
    return JSONResponse(serializers.version_diff(job_id, found))


@router.delete("/{job_id}/versions/{version_id}")
def delete_version(
    job_id: JobId, version_id: VersionId, project_id: Project, request: Request
) -> JSONResponse:
    service(request).delete_version(project_id, job_id, version_id)
    return JSONResponse(OK)


@router.post("/{job_id}/versions/{version_id}/stop")
def stop_version(
    job_id: JobId, version_id: VersionId, project_id: Project, request: Request
) -> JSONResponse:
    service(request).stop_version(project_id, job_id, version_id)
    return JSONResponse(OK)
