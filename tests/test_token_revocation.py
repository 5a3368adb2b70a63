"""Revoking a token or deleting a user takes effect on the very next request, on
every server that shares the database."""

from __future__ import annotations

from pathlib import Path

import httpx

from conftest import Server, assert_envelope
from iam_helpers import TOKENS, list_jobs, make_user, token_for, trainjobs
from postgres_db import fresh_postgres
from test_signing import Signed

UNKNOWN_TOKEN = "ModelArts.0203"


def _in_use(servers: list[Server], token: str) -> None:
    for server in servers:
        for _ in range(3):  # whatever a server remembers of it, it remembers now
            assert list_jobs(server, server.project_id, token).status_code == 200


def _refused(servers: list[Server], token: str) -> None:
    for server in servers:
        assert_envelope(list_jobs(server, server.project_id, token), 401, UNKNOWN_TOKEN)


def test_a_deleted_users_token_and_key_are_refused_on_the_next_request(server: Server) -> None:
    user = make_user(server, with_aksk=True)
    token = token_for(server, user)
    signed = Signed(server, user["access_key"], user["secret_key"])
    _in_use([server], token)
    assert signed.request("GET", f"{server.v1}/training-jobs").status_code == 200
    trainjobs(server, "users", "delete", user["name"], "--domain", user["domain"])
    _refused([server], token)
    refused = signed.request("GET", f"{server.v1}/training-jobs")
    assert_envelope(refused, 401, UNKNOWN_TOKEN)


def test_revocations_reach_every_server_on_one_postgres(tmp_path: Path) -> None:
    with fresh_postgres() as url:
        first = Server(tmp_path / "data", env={"TRAINJOBS_DATABASE_URL": url}).start()
        second = Server(tmp_path / "data", env={"TRAINJOBS_DATABASE_URL": url}).start()
        both = [first, second]
        try:
            user = make_user(first)
            keep, revoke = token_for(first, user), token_for(first, user)
            _in_use(both, keep)
            _in_use(both, revoke)
            r = httpx.delete(f"{first.base}{TOKENS}", timeout=30,
                             headers={"X-Auth-Token": keep, "X-Subject-Token": revoke})  # fmt: skip
            assert r.status_code == 204, r.text
            _refused(both, revoke)
            _in_use(both, keep)
            trainjobs(first, "users", "delete", user["name"], "--domain", user["domain"])
            _refused(both, keep)
        finally:
            second.stop()
            first.stop()
