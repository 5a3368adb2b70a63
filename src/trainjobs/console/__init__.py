"""The web console at /console/: server-rendered pages over the domain services, and
the interactive API docs, with every asset served from this package."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from trainjobs.api import tensorboard_proxy
from trainjobs.console import actions, catalogue, pages, visualization
from trainjobs.console.routing import HERE, ConsoleRoute, failure

STATIC = "/console/static"


def install(app: FastAPI) -> None:
    """Mount the console and the offline API docs on the app (made with docs_url=None)."""
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="console-static")
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(catalogue.router)
    app.include_router(visualization.router)
    if visualization.viewer_check not in tensorboard_proxy.VIEWER_CHECKS:
        tensorboard_proxy.VIEWER_CHECKS.append(visualization.viewer_check)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    @app.get("/console", include_in_schema=False)
    async def console_home() -> RedirectResponse:
        return RedirectResponse("/console/jobs", status_code=307)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{STATIC}/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/vendor/swagger-ui/favicon-32x32.png",
            # no badge that asks swagger.io to validate the document
            swagger_ui_parameters={"validatorUrl": None},
        )

    fallback = ConsoleRoute(
        "/console/{rest:path}", _not_found, methods=["GET"], include_in_schema=False
    )
    app.router.routes.append(fallback)


async def _not_found(request: Request, rest: str) -> Response:
    return failure(
        request,
        404,
        "Not found",
        "There is no such page in the console. Start again from the jobs list.",
    )
