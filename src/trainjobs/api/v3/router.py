"""``/v3``: version discovery, token issue / validation / revocation, the caller's projects.

Failures here are rendered Keystone-shaped by ``api/errors.py`` (see there why).
"""

from __future__ import annotations

from math import ceil
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from trainjobs.api.auth import identity_of, is_signed, signed_request_of, token_of
from trainjobs.api.v3 import bodies
from trainjobs.api.v3.schemas import AuthIn, AuthRequest, ScopeIn
from trainjobs.domain import errors
from trainjobs.domain.account_names import DEFAULT_DOMAIN
from trainjobs.domain.accounts import Project, ProjectRef, UserRef
from trainjobs.domain.identity import ACCESS_KEY, PASSWORD, IssuedToken
from trainjobs.domain.throttle import ADDRESS_PREFIX, LoginThrottle

router = APIRouter(tags=["identity"])

SUBJECT_TOKEN = "X-Subject-Token"


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _region(request: Request) -> str:
    return str(request.app.state.services.settings.region)


def _object_url(request: Request) -> str:
    return str(request.app.state.services.settings.object_endpoint_url)


@router.get("/v3")
def version(request: Request) -> JSONResponse:
    return JSONResponse(bodies.version_document(_base_url(request)))


def _scope(scope: ScopeIn | str | None) -> ProjectRef | None:
    if scope is None or isinstance(scope, str):
        return None
    if scope.project is not None:
        if not (scope.project.id or scope.project.name):
            raise errors.InvalidParameter("auth.scope.project needs an id or a name")
        return ProjectRef(scope.project.id, scope.project.name)
    if scope.domain is not None:
        raise errors.AuthenticationFailed(
            "domain-scoped tokens are not issued here: scope the request to a project"
        )
    return None


def _issue(request: Request, auth: AuthIn) -> IssuedToken:
    identity = identity_of(request)
    methods = auth.identity.methods
    scope = _scope(auth.scope)
    if methods == [PASSWORD]:
        if auth.identity.password is None:
            raise errors.InvalidParameter("auth.identity.password is required")
        user = auth.identity.password.user
        if not (user.id or user.name):
            raise errors.InvalidParameter("auth.identity.password.user needs an id or a name")
        domain = user.domain
        if user.name and domain is not None and not (domain.id or domain.name):
            raise errors.InvalidParameter("auth.identity.password.user.domain needs an id or name")
        ref = UserRef(
            id=user.id,
            name=user.name,
            domain_id=domain.id if domain else "",
            # Without a domain, the default one (as for a project without one).
            domain_name=(domain.name if domain else DEFAULT_DOMAIN),
        )
        return identity.issue_with_password(ref, user.password.get_secret_value(), scope)
    if methods == [ACCESS_KEY]:
        keys = auth.identity.hw_ak_sk
        if keys is None:
            raise errors.InvalidParameter("auth.identity.hw_ak_sk is required")
        return identity.issue_with_access_key(
            keys.access.key.get_secret_value(), keys.secret.key.get_secret_value(), scope
        )
    raise errors.AuthenticationFailed(
        f"authentication methods {methods} are not supported here: "
        f"use [{PASSWORD!r}] or [{ACCESS_KEY!r}]"
    )


def _token_response(token: str, body: dict[str, Any], status: int) -> JSONResponse:
    # keystoneauth takes the token from this header, never from the body.
    return JSONResponse(body, status_code=status, headers={SUBJECT_TOKEN: token})


def _login_keys(request: Request, auth: AuthIn) -> list[str]:
    """Who is trying: the client's address, and the user (or access key) it names."""
    keys = [f"{ADDRESS_PREFIX}{request.client.host if request.client else ''}"]
    password = auth.identity.password
    if password is not None:
        user = password.user
        domain = user.domain
        where = (domain.id or domain.name) if domain else DEFAULT_DOMAIN
        keys.append(f"user:{user.id or where + '/' + user.name}")
    elif auth.identity.hw_ak_sk is not None:
        keys.append(f"ak:{auth.identity.hw_ak_sk.access.key.get_secret_value()}")
    return keys


@router.post("/v3/auth/tokens", status_code=201)
def issue_token(request: Request, body: AuthRequest) -> JSONResponse:
    throttle: LoginThrottle = request.app.state.login_throttle
    keys = _login_keys(request, body.auth)
    wait = throttle.locked_for(keys)
    if wait > 0:
        raise errors.RateLimited(
            f"too many failed logins for this user or address: try again in {ceil(wait)} s",
            ceil(wait),
        )
    try:
        issued = _issue(request, body.auth)
    except errors.AuthenticationFailed:
        throttle.failed(keys)
        raise
    throttle.succeeded(keys[1:])  # the user's count; the address keeps its own
    with_catalog = "nocatalog" not in request.query_params
    payload = bodies.token_body(
        issued.info, _base_url(request), _region(request), with_catalog, _object_url(request)
    )
    return _token_response(issued.token, payload, 201)


# Read from the request itself (keystoneauth's spelling); declared for the schema.
SUBJECT_TOKEN_PARAMETER = {
    "parameters": [
        {"name": SUBJECT_TOKEN, "in": "header", "required": True, "schema": {"type": "string"}}
    ]
}


@router.get("/v3/auth/tokens", openapi_extra=SUBJECT_TOKEN_PARAMETER)
def validate_token(request: Request) -> JSONResponse:
    subject = request.headers.get(SUBJECT_TOKEN, "")
    info = identity_of(request).token_info(token_of(request), subject)
    with_catalog = "nocatalog" not in request.query_params
    payload = bodies.token_body(
        info, _base_url(request), _region(request), with_catalog, _object_url(request)
    )
    return _token_response(subject, payload, 200)


@router.delete("/v3/auth/tokens", status_code=204, openapi_extra=SUBJECT_TOKEN_PARAMETER)
def revoke_token(request: Request) -> Response:
    identity_of(request).revoke(token_of(request), request.headers.get(SUBJECT_TOKEN, ""))
    return Response(status_code=204)


@router.get("/v3/projects")
@router.get("/v3/auth/projects")
async def list_projects(request: Request, name: str = "") -> JSONResponse:
    """The caller's projects, by token or AK/SK signature (SDKs look a project id up by name)."""
    identity = identity_of(request)
    found: tuple[str, list[Project]]
    if is_signed(request):
        signed = await signed_request_of(request)
        found = await run_in_threadpool(identity.projects_for_signed, signed)
    else:
        found = await run_in_threadpool(identity.projects_for_token, token_of(request))
    domain, projects = found
    if name:
        projects = [p for p in projects if p.name == name]
    body = bodies.projects_body(projects, domain, _base_url(request), request.url.path)
    return JSONResponse(body)
