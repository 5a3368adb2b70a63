"""Resource-aware queueing on the machine's real capacity (2 cores here)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from conftest import Server, assert_envelope

CORES = psutil.cpu_count() or 1
HOLD = (
    "import os, time\n"
    "out = os.environ['TRAINJOBS_TRAIN_URL']\n"
    "print('cpus', sorted(os.sched_getaffinity(0)), flush=True)\n"
    "while not os.path.exists(os.path.join(out, 'release')):\n"
    "    time.sleep(0.05)\n"
)


@pytest.fixture
def machine_server(tmp_path: Path) -> Server:
    """A server whose capacity is this machine's, as `trainjobs serve` has by default."""
    server = Server(
        tmp_path / "data",
        env={"TRAINJOBS_CAPACITY_CORES": "0", "TRAINJOBS_CAPACITY_MEMORY_GIB": "0"},
    ).start()
    yield server  # type: ignore[misc]
    server.stop()


def _release(server: Server, version_id: int) -> None:
    (server.data_dir / "runs" / str(version_id) / "output" / "release").write_text("")


def test_versions_queue_in_order_and_never_exceed_capacity(machine_server: Server) -> None:
    server = machine_server
    first = server.create_job(HOLD)
    job_id = first["job_id"]
    ids = [first["version_id"]]
    for _ in range(CORES + 3):
        r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
        ids.append(r.json()["version_id"])
    started: list[int] = []
    deadline = time.monotonic() + 120
    while len(started) < len(ids):
        assert time.monotonic() < deadline
        versions = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()[
            "versions"
        ]
        status = {v["version_id"]: v["status"] for v in versions}
        running = [i for i in ids if status[i] == 8]
        assert len(running) <= CORES, status  # one core each: never more than the machine
        for i in running:
            if i not in started:
                started.append(i)
        waiting = [i for i in ids if status[i] == 7]
        if running and len(running) == CORES:
            assert all(w > max(running) for w in waiting), status  # first come, first served
        for i in running[:1]:
            _release(server, i)
        time.sleep(0.1)
    assert started == ids
    for i in ids:
        _release(server, i)
        assert server.wait_status(job_id, i)["status"] == 10
    log = server.log_text(job_id, ids[-1])
    assert "waiting for resources: 1 core(s)" in log


def test_workers_are_pinned_to_their_share_of_cores(machine_server: Server) -> None:
    server = machine_server
    created = server.create_job(HOLD)
    server.wait_status(created["job_id"], created["version_id"], {8})
    deadline = time.monotonic() + 10
    while "cpus" not in server.log_text(created["job_id"], created["version_id"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    line = next(
        line
        for line in server.log_text(created["job_id"], created["version_id"]).splitlines()
        if line.startswith("cpus")
    )
    assert len(eval(line.removeprefix("cpus "))) == 1  # noqa: S307 - our own printed list
    _release(server, created["version_id"])
    server.wait_status(created["job_id"], created["version_id"])


def test_waiting_version_can_be_cancelled_and_capacity_is_reported(machine_server: Server) -> None:
    server = machine_server
    holders = [server.create_job(HOLD) for _ in range(CORES)]
    for h in holders:
        server.wait_status(h["job_id"], h["version_id"], {8})
    specs = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"]
    assert specs[0]["no_resource"] is True
    waiting = server.create_job(HOLD)
    server.wait_status(waiting["job_id"], waiting["version_id"], {7})
    r = server.client.post(
        f"{server.v1}/training-jobs/{waiting['job_id']}/versions/{waiting['version_id']}/stop"
    )
    assert r.status_code == 200
    assert server.wait_status(waiting["job_id"], waiting["version_id"])["status"] == 13
    for h in holders:
        _release(server, h["version_id"])
        assert server.wait_status(h["job_id"], h["version_id"])["status"] == 10
    specs = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"]
    assert specs[0]["no_resource"] is False


def test_requests_that_can_never_fit_are_refused(machine_server: Server) -> None:
    server = machine_server
    app_url, boot = server.upload_script("print(1)\n")
    for spec_id, workers in ((1, CORES + 1), (2, 2)):
        body = {"job_name": f"big-{spec_id}", "config": {"worker_server_num": workers, "spec_id": spec_id,
                                                         "app_url": app_url, "boot_file_url": boot}}  # fmt: skip
        assert_envelope(
            server.client.post(f"{server.v1}/training-jobs", json=body), 400, "ModelArts.2793"
        )


def test_a_run_over_its_specs_memory_is_ended_with_a_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.toml").write_text(
        '[[specs]]\nspec_id = 9\nspec_code = "tiny"\ncore = 1\ncpu = 1\n'
        'gpu_num = 0\ngpu_type = ""\nmax_num = 1\n'
    )
    server = Server(
        data, env={"TRAINJOBS_CAPACITY_CORES": "0", "TRAINJOBS_CAPACITY_MEMORY_GIB": "0"}
    ).start()
    try:
        hog = "import time\nblock = bytearray(1536 * 1024 * 1024)\nprint('allocated', flush=True)\ntime.sleep(600)\n"
        created = server.create_job(hog, spec_id=9)
        version = server.wait_status(created["job_id"], created["version_id"], timeout_s=90)
        assert version["status"] == 11
        log = server.log_text(created["job_id"], created["version_id"])
        assert "more than the 1 GiB of its spec" in log
    finally:
        server.stop()
