"""What a version's start takes, a worker parent waiting for its order and a
run folder, is made ahead of need: again once the run that took it settled,
while it still runs or as soon as it ended."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psutil

from conftest import Server

DEADLINE_S = 60.0
# Holds for its --hold parameter's seconds.
HOLD = """
import sys, time
time.sleep(float(next(a for a in sys.argv if a.startswith("--hold=")).split("=", 1)[1]))
"""


def _waits(process: psutil.Process) -> bool:
    """A parent waiting for its order: one that took it has its worker (or the
    worker's sandbox) below it."""
    try:
        return "--standby" in process.cmdline() and not process.children()
    except psutil.Error:  # one that just ended
        return False


def _ready_for_the_next(server: Server) -> tuple[list[int], list[Path]]:
    """The server's parents waiting for an order and its spare run folders, once
    there is one of each."""
    assert server.proc is not None
    deadline = time.monotonic() + DEADLINE_S
    while True:
        waiting = [p.pid for p in psutil.Process(server.proc.pid).children() if _waits(p)]
        spares = sorted((server.data_dir / "runs").glob(".spare-*"))
        if waiting and spares:
            return waiting, spares
        assert time.monotonic() < deadline, f"not made ahead: parents {waiting}, folders {spares}"
        time.sleep(0.02)


def _submit(server: Server, job_id: int, hold: str) -> int:
    response = server.client.post(
        f"{server.v1}/training-jobs/{job_id}/versions",
        json={"config": {"parameter": [{"label": "hold", "value": hold}]}},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["version_id"])


def _job(server: Server) -> int:
    """A job whose first version has ended."""
    job = server.create_job(HOLD, parameter=[{"label": "hold", "value": "0"}])
    job_id = int(job["job_id"])
    server.wait_status(job_id, int(job["version_id"]))
    return job_id


def test_the_next_start_is_made_ready_while_a_run_holds_and_after_one_ends(
    fresh_server: Server,
) -> None:
    server = fresh_server
    job_id = _job(server)

    # A run that holds: the parent it took and its folder are made again meanwhile.
    before, _ = _ready_for_the_next(server)
    holding = _submit(server, job_id, "60")
    server.wait_status(job_id, holding, {8})
    during, spares = _ready_for_the_next(server)
    assert set(during).isdisjoint(before), "the parent the run took is its worker's now"
    assert str(holding) not in {p.name for p in spares}
    assert server.version(job_id, holding)["status"] == 8  # still running

    # The next version takes them: its folder is the spare, renamed into place.
    short = _submit(server, job_id, "0")
    # Its pool had room: its first steps were taken in its request, the folder's
    # claim among them, so the folder is there as soon as the answer.
    assert (server.data_dir / "runs" / str(short)).is_dir()
    assert server.wait_status(job_id, short)["status"] == 10
    assert not any(p.exists() for p in spares), "the spare became the version's folder"
    assert (server.data_dir / "runs" / str(short) / "logs").is_dir()
    after, _ = _ready_for_the_next(server)
    assert set(after).isdisjoint(during)

    stop = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions/{holding}/stop")
    assert stop.status_code == 200, stop.text
    assert server.wait_status(job_id, holding)["status"] == 12


def test_a_version_starts_when_its_spare_folder_was_removed_from_outside(
    fresh_server: Server,
) -> None:
    server = fresh_server
    job_id = _job(server)
    _, spares = _ready_for_the_next(server)
    for spare in spares:
        shutil.rmtree(spare)
    version_id = _submit(server, job_id, "0")
    assert server.wait_status(job_id, version_id)["status"] == 10
    assert (server.data_dir / "runs" / str(version_id) / "logs").is_dir()
