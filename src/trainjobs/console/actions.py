"""Signing in and out, the actions on versions, and the JSON feeds the pages poll."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from trainjobs.console import present, session
from trainjobs.console.pages import jobs_of, logs_of
from trainjobs.console.routing import NO_STORE, ConsoleRoute, page
from trainjobs.console.session import Session, current
from trainjobs.domain import errors
from trainjobs.domain.account_names import DEFAULT_DOMAIN
from trainjobs.domain.accounts import ProjectRef, UserRef
from trainjobs.domain.clock import now_ms
from trainjobs.domain.jobs import effective_duration
from trainjobs.domain.runner import version_name

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Signed = Annotated[Session, Depends(current)]
JobId = Annotated[int, Path(ge=1, le=2**53)]
VersionId = Annotated[int, Path(ge=1, le=2**53)]
MAX_PARAMETERS = 100


# -- signing in and out ------------------------------------------------------------


def _sign_in_page(request: Request, next_page: str, error: str, status_code: int = 200) -> Response:
    nonce = session.new_sign_in_nonce()
    response = page(
        request,
        "sign_in.html",
        None,
        status_code,
        next_page=session.safe_next(next_page),
        nonce=nonce,
        error=error,
        expired=request.query_params.get("expired") == "1",
    )
    session.set_nonce_cookie(request, response, nonce)
    return response


@router.get("/sign-in")
async def sign_in_form(
    request: Request, next_page: Annotated[str, Query(alias="next", max_length=2048)] = ""
) -> Response:
    return _sign_in_page(request, next_page, "")


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await session.form_of(request)
    session.check_sign_in_nonce(request, form)
    next_page = session.safe_next(form.get("next", ""))
    identity = session.identity_of(request)
    token = form.get("token", "").strip()
    try:
        if token:
            info = await run_in_threadpool(identity.token_info, token, token)
            kind, expires = session.PASTED, info.expires_at_ms
        else:
            name = form.get("user", "").strip()
            if not name or not form.get("password"):
                raise errors.AuthenticationFailed(
                    "enter a user name and password, or a project token"
                )
            ref = UserRef(name=name, domain_name=form.get("domain", "").strip() or DEFAULT_DOMAIN)
            scope = ProjectRef(name=form.get("project", "").strip())
            issued = await run_in_threadpool(
                identity.issue_with_password, ref, form.get("password", ""), scope
            )
            token, kind, expires = issued.token, session.ISSUED, issued.info.expires_at_ms
    except (errors.AuthenticationFailed, errors.InvalidToken, errors.ExpiredToken) as exc:
        return _sign_in_page(request, next_page, exc.message, 401)
    except (errors.MissingToken, errors.NotFound):
        return _sign_in_page(request, next_page, "the token is unknown, revoked or expired", 401)
    response = RedirectResponse(next_page, status_code=303)
    session.start(request, response, token, kind, expires)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, signed: Signed) -> Response:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    if signed.kind == session.ISSUED:  # a pasted token belongs to its holder, not the console
        await run_in_threadpool(session.identity_of(request).revoke, signed.token, signed.token)
    response = RedirectResponse("/console/sign-in?signed_out=1", status_code=303)
    session.end(response)
    return response


# -- actions on versions -------------------------------------------------------


async def _checked(request: Request, signed: Session) -> dict[str, str]:
    form = await session.form_of(request)
    session.check_csrf(request, signed, form)
    return form


@router.post("/jobs/{job_id}/versions/{version_id}/stop")
async def stop(request: Request, signed: Signed, job_id: JobId, version_id: VersionId) -> Response:
    await _checked(request, signed)
    await run_in_threadpool(jobs_of(request).stop_version, signed.project_id, job_id, version_id)
    return RedirectResponse(f"/console/jobs/{job_id}/versions/{version_id}", status_code=303)


@router.post("/jobs/{job_id}/versions/{version_id}/delete")
async def delete(
    request: Request, signed: Signed, job_id: JobId, version_id: VersionId
) -> Response:
    await _checked(request, signed)
    await run_in_threadpool(jobs_of(request).delete_version, signed.project_id, job_id, version_id)
    return RedirectResponse(f"/console/jobs/{job_id}?deleted={version_id}", status_code=303)


def parameters_of(form: dict[str, str]) -> list[dict[str, str]]:
    """The parameter rows of a form (label_N / value_N; an empty label drops a row)."""
    found = []
    for i in range(MAX_PARAMETERS):
        label = form.get(f"label_{i}", "").strip()
        value = form.get(f"value_{i}", "")
        if label:
            found.append({"label": label, "value": value})
    return found


@router.post("/jobs/{job_id}/versions/{version_id}/new")
async def new_version(
    request: Request, signed: Signed, job_id: JobId, version_id: VersionId
) -> Response:
    form = await _checked(request, signed)
    config: dict[str, object] = {"parameter": parameters_of(form)}
    spec = form.get("spec_id", "").strip()
    if spec.isdigit():
        config["spec_id"] = int(spec)
    workers = form.get("worker_server_num", "").strip()
    if workers.isdigit() and 1 <= int(workers) <= 64:
        config["worker_server_num"] = int(workers)
    service = jobs_of(request)
    try:
        created = await run_in_threadpool(
            service.create_version,
            signed.project_id,
            job_id,
            job_desc=None,
            config=config,
            pre_version_id=version_id,
        )
    except errors.NotFound:
        raise
    except errors.DomainError as exc:  # shown on the form, with what was typed kept
        found = service.get_version(signed.project_id, job_id, version_id)
        row = found.versions[0]
        return page(
            request,
            "new_version.html",
            signed,
            400,
            job=found.job,
            row=row,
            name=version_name(row.number),
            params=[(p["label"], p["value"]) for p in config["parameter"]],  # type: ignore[attr-defined]
            specs=service.catalog.specs,
            error=exc.message,
        )
    return RedirectResponse(
        f"/console/jobs/{job_id}/versions/{created.version_id}", status_code=303
    )


# -- feeds for the pages' scripts ------------------------------------------------


@router.get("/jobs/{job_id}/versions.json")
async def versions_feed(
    request: Request,
    signed: Signed,
    job_id: JobId,
    page_no: Annotated[int, Query(alias="page", ge=1, le=65535)] = 1,
) -> JSONResponse:
    from trainjobs.console.pages import VERSIONS_PER_PAGE

    result = await run_in_threadpool(
        jobs_of(request).list_versions, signed.project_id, job_id, page_no, VERSIONS_PER_PAGE
    )
    now = now_ms()
    body = {
        "version_count": result.job.version_count,
        "latest_version_id": result.job.latest_version_id,
        "versions": [present.listed(row, now).summary() for row in result.versions],
    }
    return JSONResponse(body, headers=NO_STORE)


@router.get("/jobs/{job_id}/versions/{version_id}/status.json")
async def version_feed(
    request: Request, signed: Signed, job_id: JobId, version_id: VersionId
) -> JSONResponse:
    found = await run_in_threadpool(
        jobs_of(request).get_version, signed.project_id, job_id, version_id
    )
    row = found.versions[0]
    duration = effective_duration(row.status, row.start_time, row.duration, now_ms())
    metrics = present.model_metrics(row)
    body = {
        "status": row.status,
        "status_name": present.status_name(row.status),
        "tone": present.status_tone(row.status),
        "active": present.is_active(row.status),
        "duration": present.span(duration),
        "failure_reason": row.failure_reason,
        "started": present.clock(row.start_time),
        "ended": present.clock(row.start_time + row.duration)
        if row.start_time and row.duration and not present.is_active(row.status)
        else "—",
        "series": present.system_series(row),
        "metrics": {"total": metrics.total, "per_class": metrics.per_class},
    }
    return JSONResponse(body, headers=NO_STORE)


@router.get("/jobs/{job_id}/versions/{version_id}/log.json")
async def log_feed(
    request: Request,
    signed: Signed,
    job_id: JobId,
    version_id: VersionId,
    file: Annotated[str, Query(min_length=1, max_length=256)],
    lines: Annotated[int, Query(ge=1, le=500)] = 200,
    base_line: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> JSONResponse:
    found = await run_in_threadpool(
        lambda: logs_of(request).page(
            signed.project_id,
            job_id,
            version_id,
            log_file=file,
            lines=lines,
            base_line=base_line,
            descending=order == "desc",
        )
    )
    body = {
        "content": found.content,
        "lines": found.lines,
        "start_line": found.start_line,
        "end_line": found.end_line,
    }
    return JSONResponse(body, headers=NO_STORE)


@router.get("/jobs/{job_id}/versions/{version_id}/log/{file}")
async def log_download(
    request: Request,
    signed: Signed,
    job_id: JobId,
    version_id: VersionId,
    file: Annotated[str, Path(min_length=1, max_length=256)],
) -> Response:
    opened = await run_in_threadpool(
        logs_of(request).open_file, signed.project_id, job_id, version_id, file
    )

    def chunks() -> object:
        with opened:
            while chunk := opened.read(1 << 16):
                yield chunk

    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in file)
    headers = {"Content-Disposition": f'attachment; filename="{safe}.log"', **NO_STORE}
    return StreamingResponse(chunks(), media_type="text/plain; charset=utf-8", headers=headers)  # type: ignore[arg-type]
