"""Visualization jobs in the console: the list (create, stop, restart, delete, open) and
"open in TensorBoard" from a version; and the check that lets a console session view
its project's TensorBoard pages through the server's proxy."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trainjobs.api.v1.schemas import NAME_PATTERN
from trainjobs.console import present, session
from trainjobs.console.pages import jobs_of
from trainjobs.console.routing import NO_STORE, ConsoleRoute, page
from trainjobs.console.session import Session, current
from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.runner import version_name
from trainjobs.domain.tensorboards import duration_of, path_prefix
from trainjobs.domain.visualization import VisualizationService

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Signed = Annotated[Session, Depends(current)]
JobId = Annotated[int, Path(ge=1, le=2**53)]
VersionId = Annotated[int, Path(ge=1, le=2**53)]
PER_PAGE = 20
VIZ_NAME_MAX = 20


def viz_of(request: Request) -> VisualizationService:
    service: VisualizationService = request.app.state.services.visualization
    return service


def _viz_item(row: Any, now: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.job_name,
        "status": row.status,
        "status_name": present.status_name(row.status),
        "tone": present.status_tone(row.status),
        "train_url": row.train_url,
        "created": present.clock(row.create_time),
        "duration": present.span(duration_of(row, now)),
        "open": f"{path_prefix(row.project_id, row.id)}/" if row.status == 8 else "",
        "failure_reason": row.failure_reason,
    }


def _viz_list(request: Request, signed: Session, page_no: int) -> tuple[int, int, list[Any]]:
    return viz_of(request).list(
        signed.project_id,
        statuses=[],
        search="",
        sort_by="create_time",
        descending=True,
        page=page_no,
        per_page=PER_PAGE,
    )


@router.get("/visualization")
async def viz_page(
    request: Request,
    signed: Signed,
    page_no: Annotated[int, Query(alias="page", ge=1, le=65535)] = 1,
) -> HTMLResponse:
    total, left, rows = await run_in_threadpool(_viz_list, request, signed, page_no)
    now = now_ms()
    return page(
        request,
        "visualization.html",
        signed,
        items=[_viz_item(r, now) for r in rows],
        total=total,
        left=left,
        page_no=page_no,
        pages=max(1, math.ceil(total / PER_PAGE)),
    )


@router.get("/visualization.json")
async def viz_feed(
    request: Request,
    signed: Signed,
    page_no: Annotated[int, Query(alias="page", ge=1, le=65535)] = 1,
) -> JSONResponse:
    _total, _left, rows = await run_in_threadpool(_viz_list, request, signed, page_no)
    now = now_ms()
    return JSONResponse({"items": [_viz_item(r, now) for r in rows]}, headers=NO_STORE)


@router.post("/visualization")
async def viz_create(request: Request, signed: Signed) -> Response:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    name = form.get("job_name", "").strip()
    if not re.fullmatch(NAME_PATTERN, name) or len(name) > VIZ_NAME_MAX:
        raise errors.InvalidParameter(
            f"a visualization job's name is 1-{VIZ_NAME_MAX} letters, digits, '_' or '-'"
        )
    row = await run_in_threadpool(
        lambda: viz_of(request).create(
            signed.project_id,
            job_name=name,
            job_desc="",
            train_url=form.get("train_url", "").strip(),
            job_type="tensorboard",
            schedule_hours=0,
        )
    )
    return RedirectResponse(f"/console/visualization?focus={row.id}", status_code=303)


@router.post("/visualization/{viz_id}/{action}")
async def viz_action(
    request: Request,
    signed: Signed,
    viz_id: Annotated[int, Path(ge=1, le=2**53)],
    action: Annotated[str, Path(pattern="^(stop|restart|delete)$")],
) -> Response:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    service = viz_of(request)
    operation = {"stop": service.stop, "restart": service.restart, "delete": service.delete}
    await run_in_threadpool(operation[action], signed.project_id, viz_id)
    return RedirectResponse("/console/visualization", status_code=303)


@router.post("/jobs/{job_id}/versions/{version_id}/tensorboard")
async def open_tensorboard(
    request: Request, signed: Signed, job_id: JobId, version_id: VersionId
) -> Response:
    """A visualization job on the version's train_url: the running one, or a new one."""
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    found = await run_in_threadpool(
        jobs_of(request).get_version, signed.project_id, job_id, version_id
    )
    row = found.versions[0]
    service = viz_of(request)
    name = f"tb-{job_id}-{version_name(row.number)}"[:VIZ_NAME_MAX]
    _total, _left, same = await run_in_threadpool(
        lambda: service.list(
            signed.project_id,
            statuses=[],
            search=name,
            sort_by="create_time",
            descending=True,
            page=1,
            per_page=5,
        )
    )
    mine = next((r for r in same if r.job_name == name), None)
    if mine is None:
        mine = await run_in_threadpool(
            lambda: service.create(
                signed.project_id,
                job_name=name,
                job_desc=f"{found.job.job_name} {version_name(row.number)}",
                train_url=row.train_url,
                job_type="tensorboard",
                schedule_hours=0,
            )
        )
    elif mine.status not in (1, 8):
        await run_in_threadpool(service.restart, signed.project_id, mine.id)
    return RedirectResponse(f"/console/visualization?focus={mine.id}", status_code=303)


async def viewer_check(request: Request, project_id: str) -> bool:
    """Lets a console session view its own project's TensorBoard pages."""
    try:
        signed = await current(request)
    except session.SignInRequired:
        return False
    return signed.project_id == project_id
