"""``service_url``: the server proxies each running visualization job's
TensorBoard (its pages, scripts and data API) to callers of the job's project.

Who may look is decided by ``authorize_viewer``: a project token (or AK/SK
signature) as on every /v1 route, or any check in ``VIEWER_CHECKS``, where a
web console adds its session cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trainjobs.api.auth import require_project
from trainjobs.api.v1 import schemas
from trainjobs.domain import errors
from trainjobs.domain.statuses import Status
from trainjobs.domain.tensorboards import path_prefix
from trainjobs.domain.visualization import VisualizationService

router = APIRouter(include_in_schema=False)

# Extra ways to be let in: each returns True when the request may view the project.
ViewerCheck = Callable[[Request, str], Awaitable[bool]]
VIEWER_CHECKS: list[ViewerCheck] = []

# Headers that describe one hop, or carry the caller's credentials: never passed on.
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "proxy-authorization",
    "content-length",
    "content-encoding",
    "host",
    "x-auth-token",
    "authorization",
    "cookie",
}
UPSTREAM_TIMEOUT_S = 60.0


async def authorize_viewer(request: Request, project_id: str) -> None:
    """Let the request through, or raise the error a /v1 route would."""
    for check in VIEWER_CHECKS:
        if await check(request, project_id):
            return
    await require_project(request, project_id)


def _client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient | None = getattr(request.app.state, "tensorboard_client", None)
    if client is None:
        client = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT_S)
        request.app.state.tensorboard_client = client
    return client


@router.api_route(
    "/tensorboard/{project_id}/{job_id}/{rest:path}",
    methods=["GET", "POST", "HEAD"],
)
@router.api_route("/tensorboard/{project_id}/{job_id}", methods=["GET", "HEAD"])
async def proxy(
    request: Request,
    project_id: Annotated[str, Path(max_length=64)],
    job_id: Annotated[int, Path(ge=1, le=schemas.MAX_ID)],
    rest: str = "",
) -> Response:
    await authorize_viewer(request, project_id)
    viz: VisualizationService = request.app.state.services.visualization
    row = await run_in_threadpool(viz.get, project_id, job_id)
    if row.status != Status.RUNNING or not row.port:
        raise errors.StatusConflict(
            f"visualization job {job_id} is not running (status {row.status}); "
            "start it again with POST .../visualization-jobs/{job_id}/restart"
        )
    prefix = path_prefix(project_id, job_id)
    if request.url.path == prefix:
        # TensorBoard's pages use relative links: they need the folder form.
        return Response(status_code=307, headers={"location": prefix + "/"})
    target = f"http://127.0.0.1:{row.port}{prefix}/{rest}"
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
    try:
        upstream = await _client(request).request(
            request.method,
            target,
            params=httpx.QueryParams(request.url.query),
            headers=headers,
            content=await request.body(),
        )
    except httpx.HTTPError as exc:
        raise errors.StatusConflict(
            f"visualization job {job_id}'s TensorBoard did not answer ({type(exc).__name__}); "
            "it may be restarting"
        ) from exc
    passed = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
    return Response(content=upstream.content, status_code=upstream.status_code, headers=passed)
