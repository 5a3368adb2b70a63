"""Routes of /v1/{project_id}/job: the resource-spec and engine catalogues."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from trainjobs.api.auth import require_project
from trainjobs.api.v1 import schemas, serializers
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.scheduler import demand_of

router = APIRouter(prefix="/v1/{project_id}/job", tags=["specs"])

Project = Annotated[str, Depends(require_project)]
JobType = Literal["train", "inference"]


def catalog(request: Request) -> Catalog:
    result: Catalog = request.app.state.services.catalog
    return result


@router.get("/resource-specs")
def resource_specs(
    _project_id: Project,
    request: Request,
    job_type: Annotated[JobType | None, Query()] = None,
    engine_id: Annotated[int, Query(ge=0, le=schemas.MAX_ID)] = 0,
    project_type: Annotated[int, Query(ge=0, le=1024)] = 0,
) -> JSONResponse:
    # Every spec runs every engine here, so engine_id and project_type filter nothing.
    scheduler = request.app.state.services.runner.scheduler
    specs = []
    for s in catalog(request).specs:
        item = serializers.spec(s)
        item["no_resource"] = not scheduler.fits_now(demand_of(s.core, s.cpu, s.gpu_num, 1))
        specs.append(item)
    return JSONResponse({"is_success": True, "spec_total_count": len(specs), "specs": specs})


@router.get("/ai-engines")
def ai_engines(
    _project_id: Project,
    request: Request,
    job_type: Annotated[JobType | None, Query()] = None,
) -> JSONResponse:
    engines = [serializers.engine(e) for e in catalog(request).engines]
    return JSONResponse({"is_success": True, "engines": engines})
