"""Every /v1/{project_id}/... request carries a token scoped to that project."""

from __future__ import annotations

from fastapi import Request

from trainjobs.domain.identity import authenticate


def token_of(request: Request) -> str:
    token = request.headers.get("x-auth-token", "")
    if not token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    return token


def require_project(request: Request, project_id: str) -> str:
    """A route dependency: the project the caller may act on."""
    return authenticate(request.app.state.services.db, token_of(request), project_id)
