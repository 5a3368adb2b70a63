"""Routes of a version's logs: file names and line pages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from trainjobs.api.auth import require_project
from trainjobs.api.v1 import schemas
from trainjobs.domain import errors
from trainjobs.domain.logs import LogReader

router = APIRouter(
    prefix="/v1/{project_id}/training-jobs/{job_id}/versions/{version_id}", tags=["logs"]
)

Project = Annotated[str, Depends(require_project)]
JobId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]
VersionId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]
MAX_BASE_LINE = 2**63 - 1


def reader(request: Request) -> LogReader:
    result: LogReader = request.app.state.services.logs
    return result


def _base_line(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_BASE_LINE:
        raise errors.InvalidParameter(
            f"base_line '{text}' is not a line number; pass start_line or end_line "
            "from an earlier page, or leave it empty for the newest lines"
        )
    return int(text)


@router.get("/log/file-names")
def log_file_names(
    job_id: JobId, version_id: VersionId, project_id: Project, request: Request
) -> JSONResponse:
    names = reader(request).file_names(project_id, job_id, version_id)
    return JSONResponse({"is_success": True, "log_file_list": names})


@router.get("/aom-log")
def aom_log(
    job_id: JobId,
    version_id: VersionId,
    project_id: Project,
    request: Request,
    log_file: Annotated[str, Query(min_length=1, max_length=256)],
    lines: Annotated[int, Query(ge=0, le=500)] = 50,
    base_line: Annotated[str, Query(max_length=32)] = "",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> JSONResponse:
    page = reader(request).page(
        project_id,
        job_id,
        version_id,
        log_file=log_file,
        lines=lines,
        base_line=_base_line(base_line),
        descending=order == "desc",
    )
    return JSONResponse(
        {
            "is_success": True,
            "content": page.content,
            "lines": page.lines,
            "start_line": str(page.start_line),
            "end_line": str(page.end_line),
        }
    )
