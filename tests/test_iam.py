"""IAM-compatible tokens (POST /v3/auth/tokens and friends) against a real server:
issuing, refusals, validation, revocation, expiry, projects, and keystoneauth1 unchanged."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import Password as DiscoveringPassword
from keystoneauth1.identity import v3

from conftest import Server, assert_envelope
from iam_helpers import (
    DAY_S,
    TOKENS,
    _now,
    aksk_auth,
    issue,
    keystone_error,
    list_jobs,
    make_project,
    make_user,
    parse_iso,
    password_auth,
    token_for,
    trainjobs,
)

# -- version discovery ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v3", "/v3/"])
def test_v3_answers_a_version_document(server: Server, path: str) -> None:
    r = httpx.get(f"{server.base}{path}", timeout=30)
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
    assert {"rel": "self", "href": f"{server.base}/v3/"} in version["links"]


# -- issuing ----------------------------------------------------------------------


def test_password_token_scoped_by_project_name_has_the_keystone_shape(server: Server) -> None:
    user = make_user(server)
    before = time.time()
    r = issue(server, password_auth(user, {"project": {"name": "default"}}))
    assert r.status_code == 201, r.text
    token = r.headers["X-Subject-Token"]
    assert len(token) >= 32 and token not in r.text
    body = r.json()["token"]
    assert body["methods"] == ["password"]
    assert body["user"]["id"] == user["id"] and body["user"]["name"] == user["name"]
    assert body["user"]["domain"]["name"] == "default" and body["user"]["domain"]["id"]
    assert body["project"]["id"] == server.project_id and body["project"]["name"] == "default"
    assert body["project"]["domain"] == body["user"]["domain"]
    assert body["roles"] and all(role["name"] for role in body["roles"])
    issued, expires = parse_iso(body["issued_at"]), parse_iso(body["expires_at"])
    assert before - 5 <= issued.timestamp() <= time.time() + 5
    assert abs((expires - issued).total_seconds() - DAY_S) < 1  # the default lifetime
    services = {entry["type"]: entry for entry in body["catalog"]}
    endpoints = services["modelarts"]["endpoints"]
    public = [e for e in endpoints if e["interface"] == "public"]
    assert public and public[0]["url"] == server.base
    assert {"region", "region_id", "id"} <= set(public[0])
    assert services["identity"]["endpoints"][0]["url"] == f"{server.base}/v3"
    # otcextensions finds the v1 API by this type, with the project in the URL
    v1 = services["modelartsv1"]["endpoints"]
    assert {e["url"] for e in v1} == {f"{server.base}/v1/{server.project_id}"}
    # The token works on the project's v1 API, and only there.
    assert list_jobs(server, server.project_id, token).status_code == 200


def test_password_token_scoped_by_project_id(server: Server) -> None:
    user = make_user(server)
    r = issue(server, password_auth(user, {"project": {"id": server.project_id}}))
    assert r.status_code == 201, r.text
    assert r.json()["token"]["project"]["id"] == server.project_id
    assert list_jobs(server, server.project_id, r.headers["X-Subject-Token"]).status_code == 200


def test_user_named_by_id_and_domain_named_by_id(server: Server) -> None:
    user = make_user(server, domain=f"acme-{uuid.uuid4().hex[:6]}")
    by_id = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": user["id"], "password": user["password"]}}}}}  # fmt: skip
    r = issue(server, by_id)
    assert r.status_code == 201, r.text
    domain_id = r.json()["token"]["user"]["domain"]["id"]
    assert r.json()["token"]["user"]["domain"]["name"] == user["domain"]
    by_domain_id = password_auth(user)
    by_domain_id["auth"]["identity"]["password"]["user"]["domain"] = {"id": domain_id}
    r = issue(server, by_domain_id)
    assert r.status_code == 201, r.text
    assert r.json()["token"]["user"]["id"] == user["id"]


def test_hw_ak_sk_token(server: Server) -> None:
    user = make_user(server, with_aksk=True)
    r = issue(
        server, aksk_auth(user["access_key"], user["secret_key"], {"project": {"name": "default"}})
    )
    assert r.status_code == 201, r.text
    body = r.json()["token"]
    assert body["methods"] == ["hw_ak_sk"] and body["user"]["id"] == user["id"]
    assert body["project"]["id"] == server.project_id
    assert list_jobs(server, server.project_id, r.headers["X-Subject-Token"]).status_code == 200
    r = issue(
        server,
        aksk_auth(user["access_key"], user["secret_key"], {"project": {"id": server.project_id}}),
    )
    assert r.status_code == 201, r.text


def test_nocatalog_leaves_the_catalog_out(server: Server) -> None:
    user = make_user(server)
    r = httpx.post(f"{server.base}{TOKENS}?nocatalog", json=password_auth(user), timeout=30)
    assert r.status_code == 201, r.text
    assert "catalog" not in r.json()["token"]


# -- refusals ---------------------------------------------------------------------


def test_wrong_password_and_unknown_user_are_the_same_401(server: Server) -> None:
    user = make_user(server)
    wrong = keystone_error(issue(server, password_auth(user, password="not-the-password")), 401)
    ghost = {**user, "name": f"ghost-{uuid.uuid4().hex[:6]}"}
    unknown = keystone_error(issue(server, password_auth(ghost)), 401)
    assert wrong == unknown  # nothing tells which user names exist
    other_domain = {**user, "domain": "elsewhere"}
    assert keystone_error(issue(server, password_auth(other_domain)), 401) == wrong
    r = issue(server, password_auth(user, password="not-the-password"))
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")


def test_wrong_secret_key_and_unknown_access_key_are_401(server: Server) -> None:
    user = make_user(server, with_aksk=True)
    secret = user["secret_key"]
    wrong = secret[:-1] + ("x" if secret[-1] != "x" else "y")  # always a different key
    keystone_error(issue(server, aksk_auth(user["access_key"], wrong)), 401)
    keystone_error(issue(server, aksk_auth("UNKNOWNACCESSKEY0000", user["secret_key"])), 401)
    keystone_error(issue(server, aksk_auth(user["access_key"], "")), 401)


def test_project_the_user_is_not_a_member_of_is_401(server: Server) -> None:
    other = make_project(server)
    user = make_user(server)
    for scope in ({"project": {"name": other["name"]}}, {"project": {"id": other["id"]}},
                  {"project": {"name": "no-such-project"}}, {"project": {"id": "0" * 32}}):  # fmt: skip
        message = keystone_error(issue(server, password_auth(user, scope)), 401)
        assert "no access to project" in message


def test_unscoped_request_is_scoped_to_the_users_only_project(server: Server) -> None:
    user = make_user(server)
    for scope in (None, "unscoped"):
        r = issue(server, password_auth(user, scope))
        assert r.status_code == 201, r.text
        assert r.json()["token"]["project"]["id"] == server.project_id


def test_unscoped_request_of_a_user_of_two_projects_is_401(server: Server) -> None:
    other = make_project(server)
    user = make_user(server, ("default", other["name"]))
    message = keystone_error(issue(server, password_auth(user)), 401)
    assert "scope the request" in message
    keystone_error(issue(server, password_auth(user, {"domain": {"name": "default"}})), 401)


def test_token_of_one_project_is_403_0210_on_another(server: Server) -> None:
    other = make_project(server)
    user = make_user(server, ("default", other["name"]))
    token = token_for(server, user, other["name"])
    assert list_jobs(server, other["id"], token).status_code == 200
    assert_envelope(list_jobs(server, server.project_id, token), 403, "ModelArts.0210")


@pytest.mark.parametrize(
    "body",
    [
        {"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}}},
        {"auth": {"identity": {"methods": ["password", "hw_ak_sk"]}}},
        {"auth": {"identity": {"methods": []}}},
    ],
    ids=["token-method", "two-methods", "no-method"],
)
def test_unsupported_methods_are_401(server: Server, body: dict[str, Any]) -> None:
    assert "not supported" in keystone_error(issue(server, body), 401)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"{}",
        b'{"auth": {"identity": {"methods": ["password"]}}}',
        b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}}',
        b'{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}',
        b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "password": "b"}}}, "scope": {"project": {}}}}',
    ],
    ids=["not-json", "no-auth", "no-password", "no-user-name", "no-keys", "empty-project"],
)
def test_malformed_requests_are_400_keystone_shaped(server: Server, content: bytes) -> None:
    r = httpx.post(f"{server.base}{TOKENS}", content=content, timeout=30)
    keystone_error(r, 400)


def test_unknown_v3_path_and_method_are_keystone_shaped(server: Server) -> None:
    keystone_error(httpx.get(f"{server.base}/v3/no-such-thing", timeout=30), 404)
    keystone_error(httpx.put(f"{server.base}{TOKENS}", json={}, timeout=30), 405)


# -- validation, revocation, expiry --------------------------------------------------


def test_validate_token_returns_its_body(server: Server) -> None:
    user = make_user(server)
    token = token_for(server, user)
    second = token_for(server, user)
    for caller in (token, second):
        r = httpx.get(f"{server.base}{TOKENS}",
                      headers={"X-Auth-Token": caller, "X-Subject-Token": token}, timeout=30)  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.headers["X-Subject-Token"] == token
        assert r.json()["token"]["user"]["id"] == user["id"]
    stranger = token_for(server, make_user(server))
    r = httpx.get(f"{server.base}{TOKENS}",
                  headers={"X-Auth-Token": stranger, "X-Subject-Token": token}, timeout=30)  # fmt: skip
    keystone_error(r, 404)  # another user's token is not visible
    keystone_error(
        httpx.get(f"{server.base}{TOKENS}", headers={"X-Subject-Token": token}, timeout=30), 401
    )


def test_revoked_token_is_refused(server: Server) -> None:
    user = make_user(server)
    keep, revoke = token_for(server, user), token_for(server, user)
    r = httpx.delete(f"{server.base}{TOKENS}",
                     headers={"X-Auth-Token": keep, "X-Subject-Token": revoke}, timeout=30)  # fmt: skip
    assert r.status_code == 204, r.text
    assert_envelope(list_jobs(server, server.project_id, revoke), 401, "ModelArts.0203")
    assert list_jobs(server, server.project_id, keep).status_code == 200
    # A token can revoke itself.
    r = httpx.delete(f"{server.base}{TOKENS}",
                     headers={"X-Auth-Token": keep, "X-Subject-Token": keep}, timeout=30)  # fmt: skip
    assert r.status_code == 204
    assert_envelope(list_jobs(server, server.project_id, keep), 401, "ModelArts.0203")


def test_deleting_a_user_ends_its_tokens(server: Server) -> None:
    user = make_user(server)
    token = token_for(server, user)
    trainjobs(server, "users", "delete", user["name"], "--domain", user["domain"])
    assert_envelope(list_jobs(server, server.project_id, token), 401, "ModelArts.0203")
    keystone_error(issue(server, password_auth(user)), 401)


def test_tokens_expire_after_the_configured_lifetime(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={"TRAINJOBS_TOKEN_LIFETIME_S": "5"}).start()
    try:
        user = make_user(srv, with_aksk=True)
        r = issue(srv, password_auth(user))
        assert r.status_code == 201, r.text
        body = r.json()["token"]
        lifetime = parse_iso(body["expires_at"]) - parse_iso(body["issued_at"])
        assert lifetime.total_seconds() == 5
        token = r.headers["X-Subject-Token"]
        r = issue(srv, aksk_auth(user["access_key"], user["secret_key"]))
        aksk_token = r.headers["X-Subject-Token"]
        expires = max(parse_iso(body["expires_at"]), parse_iso(r.json()["token"]["expires_at"]))
        for t in (token, aksk_token):
            response = list_jobs(srv, srv.project_id, t)
            assert response.status_code == 200 or _now() >= parse_iso(body["expires_at"]), (
                "a token was refused before it expired: " + response.text
            )
        # Wait for the expiry itself (the server's clock is this machine's).
        while _now() <= expires:
            time.sleep(max(0.05, (expires - _now()).total_seconds()))
        time.sleep(0.05)
        for t in (token, aksk_token):
            assert_envelope(list_jobs(srv, srv.project_id, t), 401, "ModelArts.0202")
        r = httpx.get(f"{srv.base}/v3/projects", headers={"X-Auth-Token": token}, timeout=30)
        assert "expired" in keystone_error(r, 401)
        # The bootstrap token of credentials.json never expires.
        assert list_jobs(srv, srv.project_id, srv.token).status_code == 200
        # A new token works again.
        assert list_jobs(srv, srv.project_id, token_for(srv, user)).status_code == 200
    finally:
        srv.stop()


# -- projects ---------------------------------------------------------------------


def test_projects_lists_the_callers_projects(server: Server) -> None:
    other = make_project(server)
    make_project(server)  # not the user's
    user = make_user(server, ("default", other["name"]))
    token = token_for(server, user, other["name"])
    for path in ("/v3/projects", "/v3/auth/projects"):
        r = httpx.get(f"{server.base}{path}", headers={"X-Auth-Token": token}, timeout=30)
        assert r.status_code == 200, r.text
        listed = {p["name"]: p for p in r.json()["projects"]}
        assert set(listed) == {"default", other["name"]}
        assert listed[other["name"]]["id"] == other["id"]
        assert listed["default"]["domain_id"] == listed[other["name"]]["domain_id"]
    r = httpx.get(f"{server.base}/v3/projects", params={"name": other["name"]},
                  headers={"X-Auth-Token": token}, timeout=30)  # fmt: skip
    assert [p["id"] for p in r.json()["projects"]] == [other["id"]]
    # The bootstrap token sees its own project.
    r = httpx.get(f"{server.base}/v3/projects", headers={"X-Auth-Token": server.token}, timeout=30)
    assert [p["id"] for p in r.json()["projects"]] == [server.project_id]
    keystone_error(httpx.get(f"{server.base}/v3/projects", timeout=30), 401)
    keystone_error(
        httpx.get(f"{server.base}/v3/projects", headers={"X-Auth-Token": "nope"}, timeout=30), 401
    )


# -- keystoneauth1, unchanged ------------------------------------------------------


def test_keystoneauth_password_session_calls_the_v1_api(server: Server) -> None:
    user = make_user(server)
    auth = v3.Password(
        auth_url=f"{server.base}/v3",
        username=user["name"],
        password=user["password"],
        user_domain_name=user["domain"],
        project_name="default",
        project_domain_name=user["domain"],
    )
    session = ks_session.Session(auth=auth)
    assert session.get_project_id() == server.project_id
    assert session.get_user_id() == user["id"]
    endpoint = session.get_endpoint(service_type="modelarts", interface="public")
    assert endpoint == server.base
    r = session.get(
        f"/v1/{server.project_id}/training-jobs",
        endpoint_filter={"service_type": "modelarts", "interface": "public"},
    )
    assert r.status_code == 200 and r.json()["is_success"] is True
    r = session.get(f"{server.base}/v1/{server.project_id}/job/ai-engines")
    assert r.status_code == 200
    access = auth.get_access(session)
    assert access.project_name == "default" and access.username == user["name"]
    assert "member" in (access.role_names or [])


def test_keystoneauth_discovers_v3_and_authenticates(server: Server) -> None:
    user = make_user(server, with_aksk=False)
    auth = DiscoveringPassword(
        auth_url=f"{server.base}/v3",
        username=user["name"],
        password=user["password"],
        user_domain_name=user["domain"],
        project_id=server.project_id,
    )
    session = ks_session.Session(auth=auth)
    assert session.get_project_id() == server.project_id
    r = session.get(f"/v1/{server.project_id}/training-jobs",
                    endpoint_filter={"service_type": "modelarts"})  # fmt: skip
    assert r.status_code == 200


def test_keystoneauth_reports_a_wrong_password_with_the_servers_message(server: Server) -> None:
    user = make_user(server)
    auth = v3.Password(auth_url=f"{server.base}/v3", username=user["name"], password="wrong-password",
                       user_domain_name=user["domain"], project_name="default")  # fmt: skip
    with pytest.raises(ks_exceptions.Unauthorized) as raised:
        ks_session.Session(auth=auth).get_token()
    assert "password is wrong" in str(raised.value)
