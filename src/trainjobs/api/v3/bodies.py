"""Keystone v3 response bodies: the token, the version document, project lists.

keystoneauth1 reads ``token.expires_at`` / ``issued_at`` (ISO 8601), ``user``
and ``project`` with their ``domain``, ``roles``, ``methods`` and the
``catalog``, whose entries it filters by ``type``, ``interface`` and
``region_id``; ModelArts clients read ``project.id`` and ``user.name``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from trainjobs.domain.account_names import DEFAULT_DOMAIN
from trainjobs.domain.accounts import Project, domain_id
from trainjobs.domain.identity import TokenInfo

API_VERSION = "v3.0"
VERSION_UPDATED = "2013-03-06T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"
# A token that never expires (the bootstrap token) still needs a date here.
NEVER = "9999-12-31T23:59:59.000000Z"
INTERFACES = ("public", "internal", "admin")
MODELARTS_SERVICE = ("modelarts", "modelarts")  # (type, name)
# The type the Open Telekom Cloud SDK (otcextensions) looks up for the v1 API;
# its URL carries the project, as that SDK expects.
MODELARTS_V1_SERVICE = ("modelartsv1", "modelartsv1")
IDENTITY_SERVICE = ("identity", "keystone")
OBJECT_STORE_SERVICE = ("object-store", "obs")
MEMBER_ROLE = {"id": "member", "name": "member"}


def iso8601(epoch_ms: int) -> str:
    if not epoch_ms:
        return NEVER
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _stable_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


def domain_ref(name: str) -> dict[str, str]:
    return {"id": domain_id(name), "name": name}


def catalog(
    base_url: str, region: str, project_id: str = "", object_url: str = ""
) -> list[dict[str, Any]]:
    """This service (its base URL: v1 paths carry the project id), its identity API and
    its S3-compatible object endpoint."""

    def service(kind: tuple[str, str], url: str) -> dict[str, Any]:
        type_, name = kind
        endpoints = [
            {
                "id": _stable_id(type_, interface, region),
                "interface": interface,
                "region": region,
                "region_id": region,
                "url": url,
            }
            for interface in INTERFACES
        ]
        return {"id": _stable_id(type_), "type": type_, "name": name, "endpoints": endpoints}

    entries = [service(MODELARTS_SERVICE, base_url), service(IDENTITY_SERVICE, f"{base_url}/v3")]
    if project_id:
        entries.append(service(MODELARTS_V1_SERVICE, f"{base_url}/v1/{project_id}"))
    if object_url:
        entries.append(service(OBJECT_STORE_SERVICE, object_url))
    return entries


def token_body(
    info: TokenInfo,
    base_url: str,
    region: str,
    with_catalog: bool = True,
    object_url: str = "",
) -> dict[str, Any]:
    domain = info.user.domain if info.user else DEFAULT_DOMAIN
    user = {
        "id": info.user.id if info.user else "",
        "name": info.user.name if info.user else "",
        "domain": domain_ref(domain),
        "password_expires_at": "",
    }
    token: dict[str, Any] = {
        "methods": list(info.methods),
        "expires_at": iso8601(info.expires_at_ms),
        "issued_at": iso8601(info.issued_at_ms),
        "user": user,
        "project": {
            "id": info.project.id,
            "name": info.project.name,
            "domain": domain_ref(domain),
        },
        "is_domain": False,
        "roles": [MEMBER_ROLE],
    }
    if with_catalog:
        token["catalog"] = catalog(base_url, region, info.project.id, object_url)
    return {"token": token}


def version_document(base_url: str) -> dict[str, Any]:
    return {
        "version": {
            "id": API_VERSION,
            "status": "stable",
            "updated": VERSION_UPDATED,
            "links": [{"rel": "self", "href": f"{base_url}/v3/"}],
            "media-types": [{"base": "application/json", "type": MEDIA_TYPE}],
        }
    }


def projects_body(projects: list[Project], domain: str, base_url: str, path: str) -> dict[str, Any]:
    listed = [
        {
            "id": p.id,
            "name": p.name,
            "domain_id": domain_id(domain),
            "parent_id": domain_id(domain),
            "description": "",
            "enabled": True,
            "is_domain": False,
            "links": {"self": f"{base_url}/v3/projects/{p.id}"},
        }
        for p in projects
    ]
    return {
        "projects": listed,
        "links": {"self": f"{base_url}{path}", "previous": None, "next": None},
    }
