"""IAM-compatible tokens (POST /v3/auth/tokens and friends) against a real server, with
users and projects made as the real ``trainjobs users`` / ``projects`` commands make
them (the commands themselves are tested here too)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import Password as DiscoveringPassword
from keystoneauth1.identity import v3

from conftest import TRAINJOBS, Server, assert_envelope
from trainjobs.domain import accounts
from trainjobs.settings import DEFAULT_JOB_QUOTA, Settings
from trainjobs.store.database import MIGRATIONS_DIR, Database

TOKENS = "/v3/auth/tokens"
DAY_S = 24 * 3600


# -- helpers (test_signing.py uses them too) ------------------------------------


def trainjobs(server: Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI against the server's data dir."""
    done = subprocess.run(
        [*TRAINJOBS, *args, "--data-dir", str(server.data_dir)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _accounts_db(server: Server) -> Database:
    """The server's database, as ``trainjobs users`` opens it (its key file included)."""
    settings = Settings.from_env(
        data_dir=server.data_dir,
        database_url=server.env.get("TRAINJOBS_DATABASE_URL") or server.database_url,
        secret_key_file=server.env.get("TRAINJOBS_SECRET_KEY_FILE", ""),
    )
    return Database(settings.resolved_database_url, settings.resolved_secret_key_file)


def make_user(
    server: Server,
    projects: tuple[str, ...] = ("default",),
    *,
    domain: str = "default",
    with_aksk: bool = False,
    password: str | None = None,
) -> dict[str, Any]:
    """A new user, made as ``trainjobs users create --json`` makes it (the same domain
    call, in this process: a CLI start-up per user would dominate these tests; the
    command itself is tested below): its id, name, projects and secrets."""
    db = _accounts_db(server)
    try:
        made = accounts.create_user(
            db, domain, f"u-{uuid.uuid4().hex[:10]}", projects, password, with_aksk
        )
    finally:
        db.dispose()
    user: dict[str, Any] = {
        "id": made.user.id,
        "domain": made.user.domain,
        "name": made.user.name,
        "projects": [{"id": p.id, "name": p.name} for p in made.projects],
        "password": made.password if password is None else password,
    }
    if made.access_key:
        user["access_key"], user["secret_key"] = made.access_key, made.secret_key
    return user


def make_project(server: Server) -> dict[str, Any]:
    db = _accounts_db(server)
    try:
        project = accounts.create_project(db, f"p-{uuid.uuid4().hex[:10]}", DEFAULT_JOB_QUOTA)
    finally:
        db.dispose()
    return {"id": project.id, "name": project.name}


def password_auth(
    user: dict[str, Any], scope: Any = None, password: str | None = None
) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {
                    "name": user["name"],
                    "password": password if password is not None else user["password"],
                    "domain": {"name": user["domain"]},
                }
            },
        }
    }
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def aksk_auth(ak: str, sk: str, scope: Any = None) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["hw_ak_sk"],
            "hw_ak_sk": {"access": {"key": ak}, "secret": {"key": sk}},
        }
    }
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def issue(server: Server, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.base}{TOKENS}", json=body, timeout=30)


def token_for(server: Server, user: dict[str, Any], project: str = "default") -> str:
    r = issue(server, password_auth(user, {"project": {"name": project}}))
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


def list_jobs(server: Server, project_id: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.base}/v1/{project_id}/training-jobs", headers={"X-Auth-Token": token}, timeout=30
    )


def keystone_error(response: httpx.Response, status: int) -> str:
    """The Keystone error shape keystoneauth reads; returns the message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status and error["title"] and error["message"]
    assert set(response.json()) == {"error"}
    return str(error["message"])


def parse_iso(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now() -> datetime:
    return datetime.now(UTC)


def server_log(server: Server) -> str:
    return Path(server.log.name).read_text(errors="replace")


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


# -- the CLI and the store -----------------------------------------------------------


def test_cli_lists_users_and_projects_without_secrets(server: Server) -> None:
    project = make_project(server)
    user = make_user(server, (project["id"],), with_aksk=True)
    listed = json.loads(trainjobs(server, "users", "list", "--json").stdout)
    mine = next(u for u in listed if u["id"] == user["id"])
    assert mine["access_keys"] == [user["access_key"]]
    assert mine["projects"] == [{"id": project["id"], "name": project["name"]}]
    table = (
        trainjobs(server, "users", "list").stdout
        + trainjobs(server, "users", "list", "--json").stdout
    )
    assert user["secret_key"] not in table and user["password"] not in table
    projects = json.loads(trainjobs(server, "projects", "list", "--json").stdout)
    assert {"id": project["id"], "name": project["name"], "job_quota": 10_000} in projects
    assert project["name"] in trainjobs(server, "projects", "list").stdout


def test_cli_create_prints_the_secrets_once_in_plain_text(server: Server) -> None:
    name = f"u-{uuid.uuid4().hex[:10]}"
    out = trainjobs(server, "users", "create", name, "--with-aksk").stdout
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    password, ak, sk = lines["password"], lines["access key (AK)"], lines["secret key (SK)"]
    user = {"name": name, "domain": "default", "password": password}
    assert issue(server, password_auth(user)).status_code == 201
    assert issue(server, aksk_auth(ak, sk)).status_code == 201


def test_cli_create_json_names_projects_and_secrets_that_work(server: Server) -> None:
    project = json.loads(
        trainjobs(server, "projects", "create", f"p-{uuid.uuid4().hex[:10]}", "--json").stdout
    )
    args = ["users", "create", f"u-{uuid.uuid4().hex[:10]}", "--json", "--with-aksk"]
    args += ["--project", project["name"], "--password", "a good password"]
    made = json.loads(trainjobs(server, *args).stdout)
    assert made["projects"] == [{"id": project["id"], "name": project["name"]}]
    assert "password" not in made  # chosen by the caller: not shown back
    user = {**made, "password": "a good password"}
    assert issue(server, password_auth(user)).status_code == 201
    assert issue(server, aksk_auth(made["access_key"], made["secret_key"])).status_code == 201


def test_cli_refusals(server: Server) -> None:
    user = make_user(server)
    dup = trainjobs(server, "users", "create", user["name"], check=False)
    assert dup.returncode == 1 and "already has a user" in dup.stderr
    missing = trainjobs(server, "users", "create", "someone", "--project", "no-such", check=False)
    assert missing.returncode == 1 and "no project" in missing.stderr
    short = trainjobs(server, "users", "create", "someone", "--password", "short", check=False)
    assert short.returncode == 1 and "at least 8" in short.stderr
    bad_name = trainjobs(server, "projects", "create", "has space", check=False)
    assert bad_name.returncode == 1 and "must be 1 to 64" in bad_name.stderr
    usage = trainjobs(server, "users", "create", check=False)
    assert usage.returncode == 2
    dup_project = trainjobs(server, "projects", "create", "default", check=False)
    assert dup_project.returncode == 1 and "already exists" in dup_project.stderr
    gone = trainjobs(server, "users", "delete", "nobody-here", check=False)
    assert gone.returncode == 1


def test_passwords_are_stored_as_salted_scrypt_hashes(server: Server) -> None:
    same = "the-same-password-1"
    a, b = make_user(server, password=same), make_user(server, password=same)
    db = Database(server.database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(sa.text("SELECT id, password_hash FROM users WHERE id IN (:a, :b)"),
                                {"a": a["id"], "b": b["id"]}).all()  # fmt: skip
            tokens = conn.execute(sa.text("SELECT token_sha256 FROM tokens")).all()
    finally:
        db.dispose()
    hashes = [row.password_hash for row in rows]
    assert len(hashes) == 2 and hashes[0] != hashes[1]  # a salt of its own each
    assert all(h.startswith("scrypt$") and same not in h for h in hashes)
    token = token_for(server, a)
    assert all(token not in row.token_sha256 for row in tokens)


def test_secrets_never_reach_the_server_log(server: Server) -> None:
    user = make_user(server, with_aksk=True, password="log-me-not-password")
    token = token_for(server, user)
    issue(server, aksk_auth(user["access_key"], user["secret_key"]))
    issue(server, password_auth(user, password="log-me-not-wrong"))
    issue(server, aksk_auth(user["access_key"], "log-me-not-secret"))
    httpx.get(f"{server.base}{TOKENS}", headers={"X-Auth-Token": token, "X-Subject-Token": token})
    text = server_log(server)
    for secret in ("log-me-not", user["secret_key"], token, server.token):
        assert secret not in text


def test_a_data_dir_from_before_iam_keeps_its_token(tmp_path: Path) -> None:
    """A data dir at schema 0003 with its default project and bootstrap token."""
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{(data / 'trainjobs.db').resolve()}"
    db = Database(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    from trainjobs.domain.hashing import hash_token

    token, project_id = "pre-iam-token-" + uuid.uuid4().hex, uuid.uuid4().hex
    with db.write() as conn:
        conn.execute(
            sa.text("INSERT INTO projects VALUES (:id, 'default', 10000, 1)"), {"id": project_id}
        )
        conn.execute(sa.text("INSERT INTO tokens (token_sha256, project_id, create_time) VALUES (:h, :p, 1)"),
                     {"h": hash_token(token), "p": project_id})  # fmt: skip
    db.dispose()
    (data / "credentials.json").write_text(json.dumps(
        {"endpoint": "http://127.0.0.1:1", "project_id": project_id, "token": token}))  # fmt: skip
    # This test is about an SQLite data dir, whatever database the suite runs on.
    srv = Server(data, env={"TRAINJOBS_DATABASE_URL": url}).start()
    try:
        assert srv.token == token and srv.project_id == project_id
        assert list_jobs(srv, project_id, token).status_code == 200
        r = httpx.get(f"{srv.base}/v3/projects", headers={"X-Auth-Token": token}, timeout=30)
        assert [p["id"] for p in r.json()["projects"]] == [project_id]
        user = make_user(srv)
        assert list_jobs(srv, project_id, token_for(srv, user)).status_code == 200
    finally:
        srv.stop()
