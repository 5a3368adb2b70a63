"""Property-based requests from the service's own OpenAPI document, /v1 and /v3: no
5xx, every failure in its route family's shape (the ModelArts envelope, or
Keystone's on /v3), whatever the framing and the spelling of the credentials."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from conftest import Server, assert_envelope

EXAMPLES_PER_OPERATION = 36
# Each generated case is sent eight ways: the token as X-Auth-Token or as a
# Bearer, the body framed by Content-Length or chunked, the path with or
# without a trailing slash. Generating a case costs far more than sending it.
VARIANTS = list(itertools.product(("x-auth-token", "bearer"), (False, True), ("", "/")))
MIN_REQUESTS = 5_000
SENDERS = 4


def _collect(server: Server) -> list[dict[str, Any]]:
    """Requests generated for every operation, negative and positive, as transport kwargs."""
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    cases: list[dict[str, Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        strategy |= operation.as_strategy()

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            suppress_health_check=list(HealthCheck),
            deadline=None,
            database=None,
            phases=[Phase.generate],
        )
        def collect(case: Any) -> None:
            if case.path_parameters and "project_id" in case.path_parameters:
                case.path_parameters["project_id"] = server.project_id
            cases.append(case.as_transport_kwargs(base_url=server.base))

        collect()
    return cases


def _body(kwargs: dict[str, Any]) -> bytes | None:
    if "json" in kwargs:
        return json.dumps(kwargs.pop("json")).encode()
    data = kwargs.pop("data", None)
    if data is None:
        return None
    return data if isinstance(data, bytes) else str(data).encode()


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 7):  # small chunks: several per body
        yield body[start : start + 7]


@pytest.mark.timeout(600)
def test_generated_requests_never_fault(tmp_path: Path) -> None:
    # Few visualization jobs: each one that is created starts a TensorBoard.
    server = Server(tmp_path / "data", env={"TRAINJOBS_VIZ_QUOTA": "2"}).start()
    try:
        _fuzz(server)
    finally:
        server.stop()
        server.drop()


def _fuzz(server: Server) -> None:
    started = time.monotonic()
    cases = _collect(server)
    generated_s = time.monotonic() - started
    failures: list[tuple[Any, ...]] = []
    seen: Counter[int] = Counter()
    families: Counter[str] = Counter()
    lock = threading.Lock()
    local = threading.local()

    def send(job: tuple[dict[str, Any], tuple[str, bool]]) -> None:
        generated, (credential, chunked, slash) = job
        if not hasattr(local, "session"):
            local.session = requests.Session()
        kwargs = dict(generated)
        kwargs["url"] = kwargs["url"].rstrip("/") + slash
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.pop("X-Auth-Token", None)
        if credential == "bearer":
            headers["Authorization"] = f"Bearer {server.token}"
        else:
            headers["X-Auth-Token"] = server.token
        body = _body(kwargs)
        if chunked:
            data: Any = _chunks(body or b"")
        else:
            data = body
        kwargs.pop("cookies", None)
        response = local.session.request(headers=headers, data=data, timeout=60, **kwargs)
        path = requests.utils.urlparse(kwargs["url"]).path
        family = "/v3" if path.startswith("/v3") else "/v1"
        broken = response.status_code >= 500
        if 400 <= response.status_code < 500 and not path.startswith("/tensorboard/"):
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            if family == "/v3":
                # the identity API answers as Keystone does, for Keystone clients
                broken = payload.get("error", {}).get("code") != response.status_code
            else:
                broken = payload.get("is_success") is not False or not str(
                    payload.get("error_code", "")
                ).startswith("ModelArts.")
        with lock:
            seen[response.status_code] += 1
            families[family] += 1
            if broken:
                failures.append(
                    (kwargs["method"], path, credential, chunked, body, response.text[:200])
                )

    jobs = [(case, variant) for case in cases for variant in VARIANTS]
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, jobs))
    print(
        f"{len(cases)} cases generated in {generated_s:.0f} s, {sum(seen.values())} requests "
        f"sent in {time.monotonic() - started - generated_s:.0f} s: {dict(families)}"
    )
    assert not failures, failures[:5]
    assert sum(seen.values()) >= MIN_REQUESTS, seen
    assert families["/v3"] >= 1_000 and families["/v1"] >= 3_000, families
    # the run reached the handlers, not only the validators
    assert seen[200] > 0 and sum(n for code, n in seen.items() if code >= 400) > 0


def test_nul_in_the_url_is_refused(server: Server) -> None:
    for url in (
        f"{server.v1}/training-jobs?search_content=a%00b",
        f"{server.v1}/training-jobs/1%00/versions",
    ):
        assert_envelope(server.client.get(url), 400, "ModelArts.0104")


def test_deeply_nested_json_is_refused_cleanly(server: Server) -> None:
    body = "[" * 200_000 + "]" * 200_000
    response = server.client.post(
        f"{server.v1}/training-jobs", content=body, headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "ModelArts.0104")
