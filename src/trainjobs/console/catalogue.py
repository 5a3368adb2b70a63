"""Configurations, built-in algorithms and visualization jobs in the console: lists,
new jobs from a configuration or an algorithm, "save as configuration" and "open in
TensorBoard" from a version."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trainjobs.api.v1.schemas import NAME_PATTERN
from trainjobs.console import present, session
from trainjobs.console.actions import parameters_of
from trainjobs.console.pages import jobs_of
from trainjobs.console.routing import NO_STORE, ConsoleRoute, page
from trainjobs.console.session import Session, current
from trainjobs.domain import algorithms, errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.configs import default_train_url
from trainjobs.domain.jobs import config_of
from trainjobs.domain.runner import version_name
from trainjobs.domain.training_configs import TrainingConfigService, to_json
from trainjobs.domain.visualization import VisualizationService, duration_of, path_prefix

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Signed = Annotated[Session, Depends(current)]
JobId = Annotated[int, Path(ge=1, le=2**53)]
VersionId = Annotated[int, Path(ge=1, le=2**53)]
ConfigName = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN)]
PER_PAGE = 20
VIZ_NAME_MAX = 20


def configs_of(request: Request) -> TrainingConfigService:
    service: TrainingConfigService = request.app.state.services.training_configs
    return service


def viz_of(request: Request) -> VisualizationService:
    service: VisualizationService = request.app.state.services.visualization
    return service


def _job_name(form: dict[str, str]) -> str:
    name = form.get("job_name", "").strip()
    if not re.fullmatch(NAME_PATTERN, name) or len(name) > 64:
        raise errors.InvalidParameter(
            "the job name must be 1-64 letters, digits, '_' or '-'; it is unique in the project"
        )
    return name


def _overrides(form: dict[str, str], config: dict[str, Any]) -> dict[str, Any]:
    config["parameter"] = parameters_of(form)
    spec = form.get("spec_id", "").strip()
    if spec.isdigit():
        config["spec_id"] = int(spec)
    data_url = form.get("data_url", "").strip()
    if data_url:
        config["data_url"] = data_url
    return config


# -- configurations -------------------------------------------------------------


@router.get("/configs")
async def configs_page(
    request: Request,
    signed: Signed,
    search: Annotated[str, Query(max_length=64)] = "",
    sample: Annotated[bool, Query()] = False,
    page_no: Annotated[int, Query(alias="page", ge=1, le=65535)] = 1,
) -> HTMLResponse:
    found = await run_in_threadpool(
        lambda: configs_of(request).list(
            signed.project_id,
            sample=sample,
            search=search,
            sort_by="create_time",
            descending=True,
            page=page_no,
            per_page=PER_PAGE,
        )
    )
    return page(
        request,
        "configs.html",
        signed,
        configs=found.configs,
        total=found.total,
        search=search,
        sample=sample,
        page_no=page_no,
        pages=max(1, math.ceil(found.total / PER_PAGE)),
    )


def _config_form(
    request: Request, signed: Session, name: str, sample: bool, error: str, status: int = 200
) -> HTMLResponse:
    stored = configs_of(request).get(signed.project_id, name, sample=sample)
    cfg = stored.config
    return page(
        request,
        "new_job.html",
        signed,
        status,
        source=f"configuration {name}",
        action=f"/console/configs/{name}/new-job" + ("?sample=1" if sample else ""),
        params=[(p.label, p.value) for p in cfg.parameter],
        specs=jobs_of(request).catalog.specs,
        spec_id=cfg.spec_id,
        data_url=cfg.data_url,
        summary=[("Code", cfg.app_url or cfg.user_image_url or f"algorithm {cfg.model_id}")],
        error=error,
    )


@router.get("/configs/{name}/new-job")
async def config_new_job_form(
    request: Request, signed: Signed, name: ConfigName, sample: bool = False
) -> HTMLResponse:
    return await run_in_threadpool(_config_form, request, signed, name, sample, "")


@router.post("/configs/{name}/new-job")
async def config_new_job(
    request: Request, signed: Signed, name: ConfigName, sample: bool = False
) -> Response:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    stored = await run_in_threadpool(configs_of(request).get, signed.project_id, name, sample)
    config = _overrides(form, json.loads(to_json(stored.config)))
    try:
        created = await run_in_threadpool(
            lambda: jobs_of(request).create_job(
                signed.project_id,
                job_name=_job_name(form),
                job_desc=f"from configuration {name}",
                workspace_id="0",
                config=config,
                create_version=True,
            )
        )
    except errors.NotFound:
        raise
    except errors.DomainError as exc:
        return _config_form(request, signed, name, sample, exc.message, 400)
    return RedirectResponse(f"/console/jobs/{created.job_id}", status_code=303)


@router.post("/jobs/{job_id}/versions/from-config")
async def version_from_config(request: Request, signed: Signed, job_id: JobId) -> Response:
    """A new version of the job with a configuration's settings (and its parameters)."""
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    name = form.get("config_name", "")
    if not re.fullmatch(NAME_PATTERN, name):
        raise errors.InvalidParameter("pick a configuration for the new version")
    stored = await run_in_threadpool(configs_of(request).get, signed.project_id, name)
    sent = json.loads(to_json(stored.config))
    if not sent.get("train_url"):
        sent.pop("train_url", None)  # the version's own default output folder
    created = await run_in_threadpool(
        lambda: jobs_of(request).create_version(
            signed.project_id, job_id, job_desc=None, config=sent, pre_version_id=None
        )
    )
    return RedirectResponse(
        f"/console/jobs/{job_id}/versions/{created.version_id}", status_code=303
    )


@router.post("/jobs/{job_id}/versions/{version_id}/save-config")
async def save_config(
    request: Request, signed: Signed, job_id: JobId, version_id: VersionId
) -> Response:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    name = form.get("config_name", "").strip()
    if not re.fullmatch(NAME_PATTERN, name) or len(name) > 64:
        raise errors.InvalidParameter(
            "a configuration name is 1-64 letters, digits, '_' or '-'; go back and change it"
        )
    found = await run_in_threadpool(
        jobs_of(request).get_version, signed.project_id, job_id, version_id
    )
    row = found.versions[0]
    sent = json.loads(to_json(config_of(row)))
    if row.train_url == default_train_url(found.job.job_name, version_name(row.number)):
        sent.pop("train_url")  # each job made from it gets its own default output folder
    desc = form.get("config_desc", "")[:256] or f"saved from {found.job.job_name} " + (
        version_name(row.number)
    )
    await run_in_threadpool(configs_of(request).create, signed.project_id, name, desc, sent)
    return RedirectResponse(f"/console/configs?saved={name}", status_code=303)


# -- built-in algorithms ------------------------------------------------------------


@router.get("/algorithms")
async def algorithms_page(request: Request, signed: Signed) -> HTMLResponse:
    return page(request, "algorithms.html", signed, algorithms=algorithms.ALGORITHMS)


def _algorithm_form(
    request: Request, signed: Session, model_id: int, error: str, status: int = 200
) -> HTMLResponse:
    algorithm = algorithms.get(model_id)
    return page(
        request,
        "new_job.html",
        signed,
        status,
        source=f"built-in algorithm {algorithm.model_name}",
        action=f"/console/algorithms/{model_id}/new-job",
        params=[(p.label, p.value) for p in algorithm.parameters],
        specs=jobs_of(request).catalog.specs,
        spec_id=0,
        data_url="",
        summary=[("Data format", algorithm.model_dataset_format)],
        error=error,
    )


@router.get("/algorithms/{model_id}/new-job")
async def algorithm_new_job_form(
    request: Request, signed: Signed, model_id: Annotated[int, Path(ge=1, le=2**31)]
) -> HTMLResponse:
    return _algorithm_form(request, signed, model_id, "")


@router.post("/algorithms/{model_id}/new-job")
async def algorithm_new_job(
    request: Request, signed: Signed, model_id: Annotated[int, Path(ge=1, le=2**31)]
) -> Response:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    config = _overrides(form, {"model_id": model_id, "worker_server_num": 1})
    config["parameter"] = [p for p in config["parameter"] if p["value"] != ""]
    try:
        created = await run_in_threadpool(
            lambda: jobs_of(request).create_job(
                signed.project_id,
                job_name=_job_name(form),
                job_desc=f"built-in algorithm {algorithms.get(model_id).model_name}",
                workspace_id="0",
                config=config,
                create_version=True,
            )
        )
    except errors.DomainError as exc:
        return _algorithm_form(request, signed, model_id, exc.message, 400)
    return RedirectResponse(f"/console/jobs/{created.job_id}", status_code=303)


# -- visualization jobs --------------------------------------------------------------


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
