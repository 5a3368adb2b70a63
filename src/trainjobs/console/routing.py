"""How console routes answer: HTML pages from templates, JSON feeds, and every failure
as a page (or a JSON error for the page scripts), never the API's envelope."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from trainjobs import __version__
from trainjobs.api.errors import CODES, describe_validation
from trainjobs.console import present
from trainjobs.console.session import CsrfRefused, Session, SignInRequired, sign_in_url
from trainjobs.domain import errors

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(
    status_name=present.status_name,
    status_tone=present.status_tone,
    is_active=present.is_active,
    clock=present.clock,
    span=present.span,
    metric_text=present.metric_text,
    version=__version__,
)

NO_STORE = {"Cache-Control": "no-store"}


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.endswith(".json") or request.headers.get("x-requested-with") == "fetch"


def page(
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = 200,
    /,
    **context: Any,
) -> HTMLResponse:
    context.update(request=request, session=session)
    response = templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=NO_STORE
    )
    return response


def failure(request: Request, status_code: int, title: str, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status_code, headers=NO_STORE)
    return page(request, "error.html", None, status_code, title=title, message=message)


class ConsoleRoute(APIRoute):
    """Renders the console's failures itself: an expired session goes back to sign-in
    (remembering the page), a refused or unknown request gets a page saying what to do."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                if wants_json(request):
                    body = {"error": "sign in again", "sign_in": sign_in_url(request)}
                    return JSONResponse(body, status_code=401, headers=NO_STORE)
                target = sign_in_url(request) if request.method == "GET" else "/console/sign-in"
                if exc.reason:
                    target += ("&" if "?" in target else "?") + "expired=1"
                return RedirectResponse(target, status_code=303)
            except CsrfRefused:
                return failure(
                    request,
                    403,
                    "Request refused",
                    "The form was not sent from this console (its security token is missing "
                    "or stale). Go back, reload the page and try again.",
                )
            except errors.DomainError as exc:
                status, _code = CODES.get(type(exc), (400, ""))
                if status in (401, 403):  # another project's object: as if it did not exist
                    status = 404
                titles = {404: "Not found", 409: "Conflict", 429: "Too many requests"}
                return failure(request, status, titles.get(status, "Cannot do that"), exc.message)
            except RequestValidationError as exc:
                return failure(request, 400, "Bad request", describe_validation(list(exc.errors())))

        return handle
