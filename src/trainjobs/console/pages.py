"""The console's pages: jobs, a job's versions, one version, a comparison."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from trainjobs.console import present
from trainjobs.console.routing import ConsoleRoute, page
from trainjobs.console.session import Session, current
from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.jobs import JobService, effective_duration
from trainjobs.domain.logs import LogReader
from trainjobs.domain.runner import version_name
from trainjobs.domain.training_configs import TrainingConfigService

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Signed = Annotated[Session, Depends(current)]
JobId = Annotated[int, Path(ge=1, le=2**53)]
VersionId = Annotated[int, Path(ge=1, le=2**53)]
JOBS_PER_PAGE = 20
VERSIONS_PER_PAGE = 20
MAX_COMPARED = 6
SORT_KEYS = ("job_name", "status", "duration", "version_count", "create_time")


def jobs_of(request: Request) -> JobService:
    service: JobService = request.app.state.services.jobs
    return service


def logs_of(request: Request) -> LogReader:
    reader: LogReader = request.app.state.services.logs
    return reader


def _status_filter(text: str) -> list[int]:
    values = [int(p) for p in text.split(",") if p.strip().isdigit()]
    return [v for v in values if v in {int(s) for s in present.FILTER_STATUSES}]


@router.get("/jobs")
async def jobs_page(
    request: Request,
    session: Signed,
    search: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=64)] = "",
    sort: Annotated[Literal[SORT_KEYS], Query()] = "create_time",  # type: ignore[valid-type]
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    page_no: Annotated[int, Query(alias="page", ge=1, le=65535)] = 1,
) -> HTMLResponse:
    statuses = _status_filter(status)
    result = await run_in_threadpool(
        jobs_of(request).list_jobs,
        session.project_id,
        workspace_id="0",
        statuses=statuses,
        search=search,
        sort_by=sort,
        descending=order == "desc",
        page=page_no,
        per_page=JOBS_PER_PAGE,
    )
    now = now_ms()
    state = {"search": search, "status": status, "sort": sort, "order": order}

    def link(**changes: Any) -> str:
        query = {**state, "page": page_no, **changes}
        return "/console/jobs?" + urlencode({k: v for k, v in query.items() if v not in ("", 1)})

    def sort_link(key: str) -> str:
        flip = "asc" if sort == key and order == "desc" else "desc"
        return link(sort=key, order=flip, page=1)

    rows = [
        {
            "row": row,
            "duration": present.span(
                effective_duration(row.status, row.start_time, row.duration, now)
            ),
        }
        for row in result.jobs
    ]
    pages = max(1, math.ceil(result.total / JOBS_PER_PAGE))
    return page(
        request,
        "jobs.html",
        session,
        rows=rows,
        total=result.total,
        quota=result.quota,
        left=result.left,
        state=state,
        page_no=page_no,
        pages=pages,
        link=link,
        sort_link=sort_link,
        filter_statuses=present.FILTER_STATUSES,
        filtered=bool(search or statuses),
    )


def config_names(request: Request, project_id: str) -> list[str]:
    """The project's newest configurations, for the "new version from" picker."""
    service: TrainingConfigService = request.app.state.services.training_configs
    found = service.list(
        project_id,
        sample=False,
        search="",
        sort_by="create_time",
        descending=True,
        page=1,
        per_page=50,
    )
    return [c.config_name for c in found.configs]


def _version_page(request: Request, session: Session, job_id: int, page_no: int) -> dict[str, Any]:
    result = jobs_of(request).list_versions(session.project_id, job_id, page_no, VERSIONS_PER_PAGE)
    now = now_ms()
    rows = [present.listed(row, now) for row in result.versions]
    return {"job": result.job, "rows": rows}


@router.get("/jobs/{job_id}")
async def versions_page(
    request: Request,
    session: Signed,
    job_id: JobId,
    page_no: Annotated[int, Query(alias="page", ge=1, le=65535)] = 1,
) -> HTMLResponse:
    found = await run_in_threadpool(_version_page, request, session, job_id, page_no)
    configs = await run_in_threadpool(config_names, request, session.project_id)
    rows: list[present.Listed] = found["rows"]
    job = found["job"]
    pages = max(1, math.ceil(job.version_count / VERSIONS_PER_PAGE))
    return page(
        request,
        "versions.html",
        session,
        job=job,
        rows=rows,
        param_keys=present.ordered(k for r in rows for k in r.params),
        metric_keys=present.ordered(k for r in rows for k in r.metrics),
        page_no=page_no,
        pages=pages,
        live=any(r.summary()["active"] for r in rows) or page_no == 1,
        configs=configs,
    )


def _version_and_parent(
    request: Request, session: Session, job_id: int, version_id: int
) -> tuple[Any, Any, Any | None]:
    service = jobs_of(request)
    found = service.get_version(session.project_id, job_id, version_id)
    row = found.versions[0]
    parent = None
    if row.pre_version_id:
        try:
            parent = service.get_version(session.project_id, job_id, row.pre_version_id).versions[0]
        except errors.NotFound:
            parent = None  # deleted since: nothing to mark as inherited
    return found.job, row, parent


@router.get("/jobs/{job_id}/versions/{version_id}")
async def version_page(
    request: Request, session: Signed, job_id: JobId, version_id: VersionId
) -> HTMLResponse:
    job, row, parent = await run_in_threadpool(
        _version_and_parent, request, session, job_id, version_id
    )
    files = await run_in_threadpool(
        logs_of(request).file_names, session.project_id, job_id, version_id
    )
    now = now_ms()
    duration = effective_duration(row.status, row.start_time, row.duration, now)
    return page(
        request,
        "version.html",
        session,
        job=job,
        row=row,
        name=version_name(row.number),
        parent=parent,
        parent_name=version_name(parent.number) if parent is not None else "",
        config=present.config_rows(row, parent, job.job_name),
        params=present.parameter_rows(row, parent),
        metrics=present.model_metrics(row),
        series=present.system_series(row),
        series_labels=present.SERIES_LABELS,
        duration=present.span(duration),
        ended=row.start_time + row.duration if row.duration and row.start_time else 0,
        log_files=files,
    )


@router.get("/jobs/{job_id}/versions/{version_id}/new")
async def new_version_page(
    request: Request, session: Signed, job_id: JobId, version_id: VersionId
) -> HTMLResponse:
    job, row, _parent = await run_in_threadpool(
        _version_and_parent, request, session, job_id, version_id
    )
    return page(
        request,
        "new_version.html",
        session,
        job=job,
        row=row,
        name=version_name(row.number),
        params=present.parameters(row),
        specs=jobs_of(request).catalog.specs,
        error="",
    )


def _compared(request: Request, session: Session, job_id: int, ids: list[int]) -> dict[str, Any]:
    service = jobs_of(request)
    rows = []
    job = None
    for version_id in ids:
        found = service.get_version(session.project_id, job_id, version_id)
        job = found.job
        rows.append(found.versions[0])
    rows.sort(key=lambda r: r.number)  # oldest first: the baseline, then what changed
    code = []
    for row in rows[1:]:
        # The code of each version against the first one's, when it differs.
        if row.code_digest != rows[0].code_digest:
            found_diff = service.diff_versions(session.project_id, job_id, rows[0].id, row.id)
            code.append(
                {
                    "a": version_name(rows[0].number),
                    "b": version_name(row.number),
                    "files": found_diff.code,
                    "note": found_diff.code_note,
                }
            )
    if job is None:  # no versions asked for: still a job of this project, or 404
        job = service.list_versions(session.project_id, job_id, 1, 1).job
    return {"job": job, "rows": rows, "code": code if rows else []}


@router.get("/jobs/{job_id}/compare")
async def compare_page(
    request: Request,
    session: Signed,
    job_id: JobId,
    v: Annotated[list[int], Query(max_length=MAX_COMPARED)] = [],  # noqa: B006 - FastAPI reads it
) -> HTMLResponse:
    ids = list(dict.fromkeys(x for x in v if 1 <= x <= 2**53))
    found = await run_in_threadpool(_compared, request, session, job_id, ids)
    rows = found["rows"]
    params = [dict(present.parameters(r)) for r in rows]
    param_keys = present.ordered(k for p in params for k in p)
    metrics = [present.model_metrics(r).total for r in rows]
    metric_keys = present.ordered(k for m in metrics for k in m)
    metric_rows = [
        present.DiffRow(
            k,
            [present.metric_text(m.get(k)) for m in metrics],
            len({m.get(k) for m in metrics}) > 1,
        )
        for k in metric_keys
    ]
    return page(
        request,
        "compare.html",
        session,
        job=found["job"],
        rows=rows,
        names=[version_name(r.number) for r in rows],
        param_rows=present.side_by_side([(k, k) for k in param_keys], params),
        config_rows=present.side_by_side(
            present.CONFIG_FIELDS,
            [present.config_values(r) for r in rows],
            same=frozenset({"train_url"})
            if all(present.default_output(r, found["job"].job_name) for r in rows)
            else frozenset(),
        ),
        metric_rows=metric_rows,
        series=[present.system_series(r) for r in rows],
        series_labels=present.SERIES_LABELS,
        code=found["code"],
        same_code=len({r.code_digest for r in rows}) == 1 and bool(rows and rows[0].code_digest),
    )
