"""The ModelArts error envelope, and the one place that renders every failure into it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from trainjobs.domain import errors

log = logging.getLogger(__name__)

INVALID_PARAMETER = "ModelArts.0104"
UNEXPECTED_FAULT = "ModelArts.0010"

# Each domain error's HTTP status and ModelArts code (DECISIONS.md, error table).
CODES: Mapping[type[errors.DomainError], tuple[int, str]] = {
    errors.InvalidParameter: (400, INVALID_PARAMETER),
    errors.DuplicateJobName: (400, "ModelArts.0103"),
    errors.UnknownEngine: (400, "ModelArts.2780"),
    errors.UnknownSpec: (400, "ModelArts.2781"),
    errors.UnknownDataset: (400, "ModelArts.2783"),
    errors.TooManyWorkers: (400, "ModelArts.2793"),
    errors.IncompleteCustomImage: (400, "ModelArts.2806"),
    errors.InvalidCodeDir: (400, "ModelArts.2757"),
    errors.InvalidBootFile: (400, "ModelArts.2758"),
    errors.InvalidStorePath: (400, "ModelArts.2791"),
    errors.QuotaExceeded: (400, "ModelArts.0118"),
    errors.MissingToken: (401, "ModelArts.0201"),
    errors.ExpiredToken: (401, "ModelArts.0202"),
    errors.InvalidToken: (401, "ModelArts.0203"),
    errors.ProjectMismatch: (403, "ModelArts.0210"),
    errors.InvalidSignature: (401, "ModelArts.0203"),
    errors.AuthenticationFailed: (401, "ModelArts.0203"),
    errors.NotFound: (404, "ModelArts.2775"),
    errors.LogFileNotFound: (404, "ModelArts.2818"),
    errors.StatusConflict: (409, "ModelArts.2796"),
    errors.RateLimited: (429, "ModelArts.2799"),
}

# Failures the HTTP machinery itself reports.
HTTP_CODES: Mapping[int, str] = {
    404: "ModelArts.2836",
    405: "ModelArts.2803",
    413: "ModelArts.4104",
    429: "ModelArts.2799",
}


def envelope(http_status: int, code: str, message: str) -> JSONResponse:
    # error_msg repeats error_message for clients that read that spelling.
    body = {
        "is_success": False,
        "error_code": code,
        "error_message": message,
        "error_msg": message,
    }
    return JSONResponse(body, status_code=http_status)


def keystone_error(request: Request, http_status: int, message: str) -> JSONResponse:
    """A failure of the /v3 identity API, in Keystone's shape.

    keystoneauth1 (and openstacksdk and the SDKs built on it) read
    ``error.message`` from this shape to raise their typed HTTP errors; they
    would show nothing useful from the ModelArts envelope.
    """
    try:
        title = HTTPStatus(http_status).phrase
    except ValueError:
        title = "Error"
    body = {"error": {"code": http_status, "title": title, "message": message}}
    headers = {}
    if http_status == 401:
        base = str(request.base_url).rstrip("/")
        headers["WWW-Authenticate"] = f'Keystone uri="{base}/v3"'
    return JSONResponse(body, status_code=http_status, headers=headers)


def speaks_keystone(request: Request) -> bool:
    path: str = request.scope.get("path", "")
    # /v3.0 is Huawei IAM's extension (temporary keys); it answers the same way.
    return path == "/v3" or path.startswith(("/v3/", "/v3.0/"))


def _render(request: Request, http_status: int, code: str, message: str) -> JSONResponse:
    if speaks_keystone(request):
        return keystone_error(request, http_status, message)
    return envelope(http_status, code, message)


def describe_validation(problems: Sequence[Any]) -> str:
    """One readable sentence from pydantic's error list."""
    parts = []
    for problem in problems[:5]:
        loc = [str(x) for x in problem.get("loc", ()) if x not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        if problem.get("type") == "json_invalid":
            parts.append("the body is not valid JSON")
            continue
        if not loc and problem.get("type") in ("model_attributes_type", "dict_type"):
            parts.append("the body must be a JSON object")
            continue
        if problem.get("type") == "missing":
            parts.append(f"{where} is required")
            continue
        message = str(problem.get("msg", "is invalid"))
        parts.append(f"{where}: {message}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> JSONResponse:
        status, code = CODES.get(type(exc), (500, UNEXPECTED_FAULT))
        response = _render(request, status, code, exc.message)
        if isinstance(exc, errors.RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _render(request, 400, INVALID_PARAMETER, describe_validation(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, INVALID_PARAMETER)
        if exc.status_code == 404:
            message = f"{request.method} {request.url.path} is not an endpoint of this service"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return _render(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected fault on %s %s", request.method, request.url.path)
        message = "unexpected fault in the service; it was logged"
        return _render(request, 500, UNEXPECTED_FAULT, message)
