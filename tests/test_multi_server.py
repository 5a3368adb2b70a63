"""Several `trainjobs serve` processes on one database and data dir behave as one service."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import TEST_POSTGRES, Server

HOLD = (
    "import os, time\n"
    "out = os.environ['TRAINJOBS_TRAIN_URL']\n"
    "print('started once', flush=True)\n"
    "while not os.path.exists(os.path.join(out, 'release')):\n"
    "    time.sleep(0.05)\n"
    "open(os.path.join(out, 'result'), 'w').write('done')\n"
)
# Requests relayed between servers are seen within a heartbeat. A dead server on
# this machine is known dead by its pid at once, so the heartbeat's age need not
# decide it: a generous limit keeps a server slowed down by a busy machine (30
# concurrent creates on 2 cores) from being taken for dead.
FAST_MEMBERSHIP = {"TRAINJOBS_HEARTBEAT_S": "0.5", "TRAINJOBS_DEAD_AFTER_S": "120"}


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two servers sharing one database (PostgreSQL when the suite runs on it) and one
    data dir (run folders and object store)."""
    first = Server(tmp_path / "data", env=FAST_MEMBERSHIP).start()
    second = Server(
        tmp_path / "data", env={**FAST_MEMBERSHIP, "TRAINJOBS_DATABASE_URL": first.database_url}
    ).start()
    assert (second.project_id, second.token) == (first.project_id, first.token)
    yield first, second
    second.stop()
    first.stop()
    first.drop()


def _release(server: Server, version_id: int) -> None:
    (server.data_dir / "runs" / str(version_id) / "output" / "release").write_text("")


def test_concurrent_creates_through_both_servers_never_collide(
    pair: tuple[Server, Server],
) -> None:
    first, second = pair
    created = first.create_job("print('hi')\n")
    job_id = created["job_id"]
    names: list[str] = []
    ids: list[int] = []
    lock = threading.Lock()

    def create(server: Server) -> None:
        with httpx.Client(
            base_url=server.base, headers={"X-Auth-Token": server.token}, timeout=60
        ) as c:
            for _ in range(5):
                r = c.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
                assert r.status_code == 200, r.text
                with lock:
                    names.append(r.json()["version_name"])
                    ids.append(r.json()["version_id"])

    threads = [threading.Thread(target=create, args=(s,)) for s in (first, second) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(names) == [f"V{n:04d}" for n in range(2, 32)]
    assert len(set(ids)) == 30
    for version_id in ids:
        version = first.wait_status(job_id, version_id, timeout_s=120)
        assert version["status"] == 10
        # each version ran exactly once, by one server
        assert first.log_text(job_id, version_id).count("staged 1 code file") == 1


def test_a_stop_sent_to_the_other_server_stops_the_run(pair: tuple[Server, Server]) -> None:
    first, second = pair
    created = first.create_job(HOLD)
    job_id, version_id = created["job_id"], created["version_id"]
    first.wait_status(job_id, version_id, {8})
    r = second.client.post(f"{second.v1}/training-jobs/{job_id}/versions/{version_id}/stop")
    assert r.status_code == 200
    assert second.wait_status(job_id, version_id, timeout_s=60)["status"] == 12
    # and a delete through the other server ends the run and its folder
    again = first.create_job(HOLD)
    first.wait_status(again["job_id"], again["version_id"], {8})
    assert second.client.delete(f"{second.v1}/training-jobs/{again['job_id']}").status_code == 200
    folder = first.data_dir / "runs" / str(again["version_id"])
    deadline = time.monotonic() + 30
    while folder.exists():
        assert time.monotonic() < deadline, "the owner never ended the deleted run"
        time.sleep(0.2)


def test_the_survivor_takes_over_a_dead_servers_runs(pair: tuple[Server, Server]) -> None:
    first, second = pair
    created = first.create_job(HOLD, train_url="/taken/over/")
    job_id, version_id = created["job_id"], created["version_id"]
    first.wait_status(job_id, version_id, {8})
    first.stop(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while "adopted" not in second.log_text(job_id, version_id):
        assert time.monotonic() < deadline, "no server took the run over"
        time.sleep(0.2)
    assert second.version(job_id, version_id)["status"] == 8
    _release(second, version_id)
    version = second.wait_status(job_id, version_id, timeout_s=60)
    assert version["status"] == 10
    assert (second.obs_dir / "taken" / "over" / "result").read_text() == "done"
    assert second.log_text(job_id, version_id).count("started once") == 1


@pytest.mark.skipif(not TEST_POSTGRES, reason="needs TRAINJOBS_TEST_POSTGRES_URL")
def test_servers_with_their_own_data_dirs_share_a_postgres_database(tmp_path: Path) -> None:
    first = Server(tmp_path / "a" / "data").start()
    try:
        (tmp_path / "b").mkdir()
        shutil.copytree(first.data_dir / "obs", tmp_path / "b" / "data" / "obs")
        second = Server(
            tmp_path / "b" / "data", env={"TRAINJOBS_DATABASE_URL": first.database_url}
        ).start()
        try:
            created = second.create_job("print(1)\n")
            listed = first.client.get(f"{first.v1}/training-jobs").json()
            assert created["job_id"] in {j["job_id"] for j in listed["jobs"]}
            assert second.wait_status(created["job_id"], created["version_id"])["status"] == 10
        finally:
            second.stop()
    finally:
        first.stop()
        first.drop()


def test_serve_refuses_a_database_it_cannot_reach(tmp_path: Path) -> None:
    import subprocess

    from conftest import TRAINJOBS

    result = subprocess.run(
        [*TRAINJOBS, "serve", "--data-dir", str(tmp_path / "d"), "--port", "1",
         "--database-url", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot open the database" in result.stderr and "Traceback" not in result.stderr
    assert "secret" not in result.stderr  # the password is not echoed
