"""Versions still queued when their server dies run after a restart or a takeover,
in the order they were created."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from conftest import Server
from postgres_db import fresh_postgres

HOLD = (
    "import os, time\n"
    "out = os.environ['TRAINJOBS_TRAIN_URL']\n"
    "while not os.path.exists(os.path.join(out, 'release')):\n"
    "    time.sleep(0.05)\n"
    "open(os.path.join(out, 'result'), 'w').write('done')\n"
)
# Room for two one-core versions at a time.
TWO_SLOTS = {"TRAINJOBS_CAPACITY_CORES": "2", "TRAINJOBS_CAPACITY_MEMORY_GIB": "4096"}
FAST_MEMBERSHIP = {"TRAINJOBS_HEARTBEAT_S": "0.5", "TRAINJOBS_DEAD_AFTER_S": "3"}


def _until(check: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting until {what}"
        time.sleep(0.1)


def _statuses(server: Server, job_id: int) -> dict[int, int]:
    listed = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions?per_page=10")
    assert listed.status_code == 200, listed.text
    return {v["version_id"]: v["status"] for v in listed.json()["versions"]}


def _five_versions(server: Server) -> tuple[int, str, list[int]]:
    """One job with five versions: the first two RUNNING, the other three WAITING."""
    created = server.create_job(HOLD)
    job_id = created["job_id"]
    ids = [created["version_id"]]
    for _ in range(4):
        r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
        assert r.status_code == 200, r.text
        ids.append(r.json()["version_id"])
    wanted = {ids[0]: 8, ids[1]: 8, ids[2]: 7, ids[3]: 7, ids[4]: 7}
    _until(
        lambda: {i: s for i, s in _statuses(server, job_id).items() if i in wanted} == wanted,
        "two versions run and three wait",
    )
    return job_id, created["job_name"], ids


def _release(runs: Path, version_id: int) -> None:
    (runs / str(version_id) / "output" / "release").write_text("")


def _drain_in_order(server: Server, job_id: int, job_name: str, ids: list[int]) -> None:
    """Release the runs one by one: each freed slot goes to the oldest waiting version."""
    runs = server.data_dir / "runs"
    for released, next_up in ((ids[0], ids[2]), (ids[1], ids[3]), (ids[2], ids[4])):
        _release(runs, released)
        _until(lambda r=released: _statuses(server, job_id)[r] == 10, f"{released} completes")
        _until(lambda n=next_up: _statuses(server, job_id)[n] == 8, f"{next_up} starts")
        status = _statuses(server, job_id)
        later = [i for i in ids if i > next_up]
        assert all(status[i] == 7 for i in later), f"a later version overtook {next_up}: {status}"
        assert sum(1 for s in status.values() if s == 8) == 2, status
    for version_id in ids[3:]:
        _release(runs, version_id)
    for number, version_id in enumerate(ids, start=1):
        version = server.wait_status(job_id, version_id)
        assert version["status"] == 10, version
        result = server.obs_dir / "trainjobs" / job_name / f"V{number:04d}" / "output" / "result"
        assert result.read_text() == "done"
    starts = [server.version(job_id, i)["start_time"] for i in ids[2:]]
    assert starts == sorted(starts), starts


def test_queued_versions_run_in_order_after_a_crash_and_restart(tmp_path: Path) -> None:
    first = Server(tmp_path / "data", env=TWO_SLOTS).start()
    try:
        job_id, job_name, ids = _five_versions(first)
    finally:
        first.stop(signal.SIGKILL)  # a crash: nothing is cleaned up
    again = Server(
        tmp_path / "data", env={**TWO_SLOTS, "TRAINJOBS_DATABASE_URL": first.database_url}
    ).start()
    try:
        _drain_in_order(again, job_id, job_name, ids)
        log = again.log_text(job_id, ids[4])
        assert "restarted before this version started" in log
    finally:
        again.stop()
        first.drop()


def test_queued_versions_run_in_order_after_a_takeover_on_postgres(tmp_path: Path) -> None:
    with fresh_postgres() as url:
        env = {**TWO_SLOTS, **FAST_MEMBERSHIP, "TRAINJOBS_DATABASE_URL": url}
        first = Server(tmp_path / "data", env=env).start()
        second = Server(tmp_path / "data", env=env).start()
        try:
            job_id, job_name, ids = _five_versions(first)
            first.stop(signal.SIGKILL)
            _until(
                lambda: "restarted before this version started" in second.log_text(job_id, ids[4]),
                "the survivor takes the queued versions over",
            )
            _drain_in_order(second, job_id, job_name, ids)
        finally:
            second.stop()
            first.stop()
