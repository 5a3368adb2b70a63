"""Request bodies of ``POST /v3/auth/tokens`` as Keystone v3 and Huawei Cloud IAM clients send them.

Unknown fields are ignored; secrets are ``SecretStr`` so that no repr shows them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, SecretStr


class DomainIn(BaseModel):
    id: str = ""
    name: str = ""


class UserIn(BaseModel):
    id: str = ""
    name: str = ""
    domain: DomainIn | None = None
    password: SecretStr = SecretStr("")


class PasswordIn(BaseModel):
    user: UserIn


class KeyIn(BaseModel):
    key: SecretStr = SecretStr("")


class AccessKeyIn(BaseModel):
    access: KeyIn
    secret: KeyIn


class IdentityIn(BaseModel):
    methods: list[str]
    password: PasswordIn | None = None
    hw_ak_sk: AccessKeyIn | None = None


class ProjectIn(BaseModel):
    id: str = ""
    name: str = ""
    domain: DomainIn | None = None


class ScopeIn(BaseModel):
    project: ProjectIn | None = None
    domain: DomainIn | None = None


class AuthIn(BaseModel):
    identity: IdentityIn
    # keystoneauth sends the string "unscoped" to ask for no scope.
    scope: ScopeIn | Literal["unscoped"] | None = None


class AuthRequest(BaseModel):
    auth: AuthIn
