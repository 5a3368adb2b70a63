"""Every /v1/{project_id}/... request carries a token scoped to that project, or an
AK/SK signature of a member of that project."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from trainjobs.api.ratelimit import RateLimiter
from trainjobs.domain import signing
from trainjobs.domain.identity import IdentityService

RAW_HEADERS = "trainjobs.raw_headers"


class KeepRawHeaders:
    """Keeps the headers as the client sent them, for signature checks.

    Outermost: ``JsonBodies`` rewrites Content-Type, a header clients sign.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[RAW_HEADERS] = list(scope.get("headers", []))
        await self.app(scope, receive, send)


def token_of(request: Request) -> str:
    token = request.headers.get("x-auth-token", "")
    if not token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    return token


def is_signed(request: Request) -> bool:
    return signing.is_signed(request.headers.get("authorization", ""))


def _query_pairs(raw: bytes) -> list[tuple[str, str]]:
    # "+" stays a plus: signers escape a space as %20, and percent-decode nothing else.
    pairs = []
    for part in raw.decode("latin-1").split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


async def signed_request_of(request: Request) -> signing.SignedRequest:
    raw = request.scope.get(RAW_HEADERS) or request.scope.get("headers", [])
    headers = [
        (name.decode("latin-1").lower(), value.decode("utf-8", "replace")) for name, value in raw
    ]
    return signing.SignedRequest(
        method=request.method,
        path=request.scope.get("path", "/"),
        query=_query_pairs(request.scope.get("query_string", b"")),
        headers=headers,
        body=await request.body(),
    )


def identity_of(request: Request) -> IdentityService:
    service: IdentityService = request.app.state.services.identity
    return service


async def require_project(request: Request, project_id: str) -> str:
    """A route dependency: the project the caller may act on."""
    identity = identity_of(request)
    limits: RateLimiter = request.app.state.services.rate_limiter
    if is_signed(request):
        signed = await signed_request_of(request)
        project = await run_in_threadpool(identity.authenticate_signed, signed, project_id)
        limits.check(signing.parse_authorization(request.headers["authorization"]).access_key)
        return project
    token = token_of(request)
    if identity.checks_in_process:
        # An index probe in this process, a small part of a request's cost: a hop
        # to a worker thread and back would cost more than the check itself.
        project = identity.authenticate(token, project_id)
    else:
        # A network database: its round trip must not stall the event loop.
        project = await run_in_threadpool(identity.authenticate, token, project_id)
    limits.check(token)
    return project
