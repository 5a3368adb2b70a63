"""Configurations and built-in algorithms in the console: lists, new jobs from a
configuration or an algorithm, a new version from a configuration, and "save as
configuration" from a version."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trainjobs.api.v1.schemas import NAME_PATTERN
from trainjobs.console import session
from trainjobs.console.actions import parameters_of
from trainjobs.console.pages import jobs_of
from trainjobs.console.routing import ConsoleRoute, page
from trainjobs.console.session import Session, current
from trainjobs.domain import algorithms, errors
from trainjobs.domain.configs import default_train_url
from trainjobs.domain.jobs import config_of
from trainjobs.domain.runner import version_name
from trainjobs.domain.training_configs import TrainingConfigService, to_json

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Signed = Annotated[Session, Depends(current)]
JobId = Annotated[int, Path(ge=1, le=2**53)]
VersionId = Annotated[int, Path(ge=1, le=2**53)]
ConfigName = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN)]
PER_PAGE = 20


def configs_of(request: Request) -> TrainingConfigService:
    service: TrainingConfigService = request.app.state.services.training_configs
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
