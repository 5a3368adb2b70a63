"""ModelArts training code on the Ray executor: the launcher's environment reaches
Ray-placed workers, and the two-worker example finds its peers there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from raytest import ray_server, requires_ray

from conftest import ROOT, Server
from test_modelarts_runs import PROBE, _create, _output, _upload_codes

pytestmark = requires_ray


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = ray_server(tmp_path_factory.mktemp("ray-modelarts") / "data")
    yield srv
    srv.stop()


def test_ray_workers_find_the_launchers_environment(served: Server, tmp_path: Path) -> None:
    app_url, boot = _upload_codes(served, tmp_path, PROBE)
    job_id, version_id = _create(
        served,
        {"worker_server_num": 2, "app_url": app_url, "boot_file_url": boot,
         "parameter": [{"label": "empty", "value": ""}]},
    )  # fmt: skip
    version = served.wait_status(job_id, version_id, timeout_s=180)
    assert version["status"] == 10, served.log_text(job_id, version_id)
    out = _output(served, version)
    for rank in (0, 1):
        seen = json.loads((out / f"seen-{rank}.json").read_text())
        assert seen["net"] == "the net" and Path(seen["cwd"]).name == "user-job-dir"
        assert seen["env"]["DLS_TASK_INDEX"] == str(rank)
        assert seen["argv"][0] == "--data_url=" and seen["argv"][-1] == "--empty="


def test_two_worker_example_finds_its_peers_on_ray(served: Server) -> None:
    served.upload(ROOT / "examples" / "modelarts_peers", "/examples/modelarts_peers")
    job_id, version_id = _create(
        served,
        {"worker_server_num": 2, "app_url": "/examples/modelarts_peers/",
         "boot_file_url": "/examples/modelarts_peers/peers.py"},
    )  # fmt: skip
    version = served.wait_status(job_id, version_id, timeout_s=180)
    log = served.log_text(job_id, version_id)
    assert version["status"] == 10, log
    assert json.loads((_output(served, version) / "total.json").read_text())["total"] == 500500
