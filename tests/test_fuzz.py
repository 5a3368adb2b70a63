"""Property-based requests from the service's own OpenAPI document: no 5xx, every
failure in the ModelArts envelope."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from conftest import Server, assert_envelope

EXAMPLES_PER_OPERATION = 40


def test_generated_requests_never_fault(tmp_path: Path) -> None:
    # Few visualization jobs: each one that is created starts a TensorBoard.
    server = Server(tmp_path / "data", env={"TRAINJOBS_VIZ_QUOTA": "2"}).start()
    try:
        _fuzz(server)
    finally:
        server.stop()
        server.drop()


def _fuzz(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    failures: list[tuple[Any, ...]] = []
    seen: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        strategy |= operation.as_strategy()

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            suppress_health_check=list(HealthCheck),
            deadline=None,
            database=None,
        )
        def run(case: Any) -> None:
            if case.path_parameters and "project_id" in case.path_parameters:
                case.path_parameters["project_id"] = server.project_id
            response = case.call(headers={"X-Auth-Token": server.token}, timeout=30)
            seen[response.status_code] += 1
            broken = response.status_code >= 500
            if 400 <= response.status_code < 500:
                body = response.json()
                if case.formatted_path.startswith("/v3"):
                    # the identity API answers as Keystone does, for Keystone clients
                    broken = body.get("error", {}).get("code") != response.status_code
                else:
                    broken = body.get("is_success") is not False or not str(
                        body.get("error_code", "")
                    ).startswith("ModelArts.")
            if broken:
                failures.append(
                    (case.method, case.formatted_path, case.query, case.body, response.text[:200])
                )

        run()
    assert operations >= 15
    assert not failures, failures[:5]
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
