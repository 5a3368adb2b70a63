"""``POST /v3.0/OS-CREDENTIAL/securitytokens``: a temporary access key for a token.

Huawei Cloud IAM's own route for temporary AK/SK: tools that hold only a token
(the trainjobs CLI and SDK on another machine) trade it for a key of the
token's project to sign object-endpoint requests with. The key expires after
``duration_seconds`` (900 to 86400, default 900) or with the token, whichever
is sooner, and dies if the token is revoked. trainjobs needs no security token
beside the key; ``securitytoken`` is sent empty.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trainjobs.api.auth import identity_of, token_of
from trainjobs.api.v3.bodies import iso8601
from trainjobs.domain import errors
from trainjobs.domain.object_keys import DEFAULT_DURATION_S

router = APIRouter(tags=["identity"])


class TokenIn(BaseModel):
    id: str = ""
    duration_seconds: int = Field(default=DEFAULT_DURATION_S)


class IdentityIn(BaseModel):
    methods: list[str]
    token: TokenIn = TokenIn()


class AuthIn(BaseModel):
    identity: IdentityIn


class CredentialRequest(BaseModel):
    auth: AuthIn


@router.post("/v3.0/OS-CREDENTIAL/securitytokens", status_code=201)
async def issue_temporary_key(request: Request, body: CredentialRequest) -> JSONResponse:
    if body.auth.identity.methods != ["token"]:
        raise errors.InvalidParameter('auth.identity.methods must be ["token"]')
    token = body.auth.identity.token.id or token_of(request)
    services = request.app.state.services
    issued = await run_in_threadpool(
        services.object_keys.issue_for_token,
        identity_of(request),
        token,
        body.auth.identity.token.duration_seconds,
    )
    credential: dict[str, Any] = {
        "access": issued.access,
        "secret": issued.secret,
        "securitytoken": "",
        "expires_at": iso8601(issued.expires_at_ms),
        "project_id": issued.project_id,
        "obs_endpoint": services.settings.object_endpoint_url,
    }
    return JSONResponse({"credential": credential}, status_code=201)
