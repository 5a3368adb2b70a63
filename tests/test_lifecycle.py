"""Stop, delete, concurrency and restart: the status machine against real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import psutil

from conftest import Server, assert_envelope, unique_name

SLEEPER = """
import os, sys, time
# a child process too, so that a stop must end the whole tree
import subprocess
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.path.join(os.environ["TRAINJOBS_TRAIN_URL"], "pids"), "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
print("sleeping", flush=True)
time.sleep(600)
"""

QUICK = "print('done')\n"


def _pids(server: Server, version_id: int) -> list[int]:
    path = server.data_dir / "runs" / str(version_id) / "output" / "pids"
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, "the run never wrote its pids"
        time.sleep(0.05)
    return server.host_pids(version_id, [int(p) for p in path.read_text().split()])


def _gone(pids: list[int], timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids):
            return True
        time.sleep(0.1)
    return False


def test_stop_of_running_version_kills_the_whole_tree(server: Server) -> None:
    created = server.create_job(SLEEPER)
    job_id, version_id = created["job_id"], created["version_id"]
    server.wait_status(job_id, version_id, {8})
    pids = _pids(server, version_id)
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions/{version_id}/stop")
    assert r.status_code == 200 and r.json() == {"is_success": True}
    assert server.version(job_id, version_id)["status"] in (9, 12)
    version = server.wait_status(job_id, version_id)
    assert version["status"] == 12
    assert _gone(pids)
    assert version["duration"] > 0
    # a second stop of a finished version is a conflict
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions/{version_id}/stop")
    assert_envelope(r, 409, "ModelArts.2796")


def test_stop_ignoring_sigterm_is_killed_after_grace(server: Server) -> None:
    stubborn = (
        "import signal, time, os\n"
        "signal.signal(signal.SIGTERM, lambda *a: print('ignoring TERM', flush=True))\n"
        "open(os.path.join(os.environ['TRAINJOBS_TRAIN_URL'], 'pids'), 'w')"
        ".write(str(os.getpid()))\n"
        "time.sleep(600)\n"
    )
    created = server.create_job(stubborn)
    job_id, version_id = created["job_id"], created["version_id"]
    server.wait_status(job_id, version_id, {8})
    pids = _pids(server, version_id)
    started = time.monotonic()
    server.client.post(f"{server.v1}/training-jobs/{job_id}/versions/{version_id}/stop")
    assert server.wait_status(job_id, version_id)["status"] == 12
    assert time.monotonic() - started >= 2.5  # the test server's grace is 3 s
    assert _gone(pids)
    assert "ignoring TERM" in server.log_text(job_id, version_id)


def test_delete_job_stops_running_versions_then_answers_404(server: Server) -> None:
    created = server.create_job(SLEEPER)
    job_id, version_id = created["job_id"], created["version_id"]
    server.wait_status(job_id, version_id, {8})
    pids = _pids(server, version_id)
    r = server.client.delete(f"{server.v1}/training-jobs/{job_id}")
    assert r.status_code == 200 and r.json() == {"is_success": True}
    assert_envelope(
        server.client.get(f"{server.v1}/training-jobs/{job_id}/versions"), 404, "ModelArts.2775"
    )
    assert_envelope(
        server.client.get(f"{server.v1}/training-jobs/{job_id}/versions/{version_id}"),
        404,
        "ModelArts.2775",
    )
    assert_envelope(
        server.client.delete(f"{server.v1}/training-jobs/{job_id}"), 404, "ModelArts.2775"
    )
    assert _gone(pids)


def test_delete_version_keeps_numbering_and_counts(server: Server) -> None:
    created = server.create_job(QUICK)
    job_id = created["job_id"]
    second = server.client.post(
        f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}}
    ).json()
    server.wait_status(job_id, second["version_id"])
    r = server.client.delete(f"{server.v1}/training-jobs/{job_id}/versions/{second['version_id']}")
    assert r.status_code == 200
    assert_envelope(
        server.client.get(f"{server.v1}/training-jobs/{job_id}/versions/{second['version_id']}"),
        404,
        "ModelArts.2775",
    )
    listed = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    assert listed["version_count"] == 1
    third = server.client.post(
        f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}}
    ).json()
    assert third["version_name"] == "V0003"  # numbers are never reused
    jobs = server.client.get(
        f"{server.v1}/training-jobs", params={"search_content": created["job_name"]}
    ).json()
    assert jobs["jobs"][0]["version_id"] == third["version_id"]
    assert jobs["jobs"][0]["version_count"] == 2


def test_update_description(server: Server) -> None:
    created = server.create_job(QUICK)
    r = server.client.put(
        f"{server.v1}/training-jobs/{created['job_id']}", json={"job_desc": "tuned"}
    )
    assert r.json() == {"is_success": True}
    listed = server.client.get(f"{server.v1}/training-jobs/{created['job_id']}/versions").json()
    assert listed["job_desc"] == "tuned"


def test_concurrent_version_creation_yields_distinct_consecutive_names(server: Server) -> None:
    created = server.create_job(QUICK)
    job_id = created["job_id"]
    names: list[str] = []
    ids: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        with httpx.Client(
            base_url=server.base, headers={"X-Auth-Token": server.token}, timeout=60
        ) as c:
            for _ in range(4):
                r = c.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
                assert r.status_code == 200, r.text
                with lock:
                    names.append(r.json()["version_name"])
                    ids.append(r.json()["version_id"])

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(names) == [f"V{n:04d}" for n in range(2, 26)]
    assert len(set(ids)) == 24
    listed = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    assert listed["version_count"] == 25
    for version_id in ids:
        server.wait_status(job_id, version_id, timeout_s=120)


def test_concurrent_job_creation_with_one_name_creates_one_job(server: Server) -> None:
    name = unique_name()
    app_url, boot = server.upload_script(QUICK)
    body = {
        "job_name": name,
        "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot, "spec_id": 1},
    }
    codes: list[int] = []

    def create() -> None:
        with httpx.Client(
            base_url=server.base, headers={"X-Auth-Token": server.token}, timeout=60
        ) as c:
            codes.append(c.post(f"{server.v1}/training-jobs", json=body).status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [400] * 5


def test_crash_and_restart_adopts_live_runs_and_follows_them_to_the_end(
    fresh_server: Server,
) -> None:
    server = fresh_server
    script = (
        "import os, time\n"
        "out = os.environ['TRAINJOBS_TRAIN_URL']\n"
        "open(os.path.join(out, 'pids'), 'w').write(str(os.getpid()))\n"
        "print('before the crash', flush=True)\n"
        "while not os.path.exists(os.path.join(out, 'go')):\n"
        "    time.sleep(0.05)\n"
        "print('after the crash', flush=True)\n"
        "open(os.path.join(out, 'result'), 'w').write('done')\n"
    )
    created = server.create_job(script, train_url="/kept/out/")
    job_id, version_id = created["job_id"], created["version_id"]
    server.wait_status(job_id, version_id, {8})
    pids = _pids(server, version_id)
    before = server.version(job_id, version_id)
    server.stop(signal.SIGKILL)  # a crash: nothing is cleaned up
    assert all(psutil.pid_exists(p) for p in pids)
    server.start()
    adopted = server.version(job_id, version_id)
    assert adopted["status"] == 8 and adopted["start_time"] == before["start_time"]
    (server.data_dir / "runs" / str(version_id) / "output" / "go").write_text("")
    version = server.wait_status(job_id, version_id)
    assert version["status"] == 10, server.log_text(job_id, version_id)
    assert version["duration"] >= before["duration"]
    log = server.log_text(job_id, version_id)
    assert log.count("before the crash") == 1 and log.count("after the crash") == 1
    assert "adopted" in log
    assert (server.obs_dir / "kept" / "out" / "result").read_text() == "done"
    listed = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    assert listed["version_count"] == 1
    # the credentials survive a restart
    assert json.loads((server.data_dir / "credentials.json").read_text())["token"] == server.token


def test_runs_that_end_while_the_server_is_down_keep_their_outcome(fresh_server: Server) -> None:
    server = fresh_server
    created_ok = server.create_job(SLEEPER)
    created_bad = server.create_job(SLEEPER)
    for c in (created_ok, created_bad):
        server.wait_status(c["job_id"], c["version_id"], {8})
    ok_pids = _pids(server, created_ok["version_id"])
    bad_pids = _pids(server, created_bad["version_id"])
    server.stop(signal.SIGKILL)
    # while no server watches: one run's worker ends cleanly, the other's whole tree dies
    for pid in ok_pids[1:]:
        psutil.Process(pid).kill()
    os.kill(ok_pids[0], signal.SIGTERM)
    # The worker's recording parent first: killed after its worker, it would record
    # the exit. (The script's own parent may be its sandbox, between the two.)
    state = server.data_dir / "runs" / str(created_bad["version_id"]) / "workers"
    recorder = psutil.Process(json.loads((state / "0.pid").read_text())["pid"])
    doomed = [recorder, *recorder.children(recursive=True)]
    for proc in doomed:
        with contextlib.suppress(psutil.NoSuchProcess, AttributeError):
            proc.kill()
    assert _gone(ok_pids + bad_pids)
    server.start()
    ok = server.wait_status(created_ok["job_id"], created_ok["version_id"])
    bad = server.wait_status(created_bad["job_id"], created_bad["version_id"])
    assert ok["status"] == 11  # SIGTERM ended it: a failure, recorded by its parent
    assert "SIGTERM" in server.log_text(created_ok["job_id"], created_ok["version_id"])
    assert bad["status"] == 14
    assert "no trace" in server.log_text(created_bad["job_id"], created_bad["version_id"])


def test_graceful_shutdown_ends_runs_as_killed(fresh_server: Server) -> None:
    server = fresh_server
    created = server.create_job(SLEEPER)
    job_id, version_id = created["job_id"], created["version_id"]
    server.wait_status(job_id, version_id, {8})
    pids = _pids(server, version_id)
    server.stop(signal.SIGTERM)
    assert _gone(pids)
    server.start()
    assert server.version(job_id, version_id)["status"] == 12


def test_resource_specs_describe_this_machine(server: Server) -> None:
    body = server.client.get(f"{server.v1}/job/resource-specs", params={"job_type": "train"}).json()
    assert body["is_success"] is True and body["spec_total_count"] == len(body["specs"]) >= 1
    cores = psutil.cpu_count()
    memory = round(psutil.virtual_memory().total / 1024**3)
    one = body["specs"][0]
    assert (one["spec_id"], one["core"], one["max_num"]) == (1, "1", cores)
    assert int(one["cpu"]) == max(1, memory // cores)
    assert one["gpu_num"] == 0 and one["gpu_type"] == "" and one["no_resource"] is False
    if cores > 1:
        whole = body["specs"][1]
        assert (whole["core"], whole["max_num"]) == (str(cores), 1)
        assert int(whole["cpu"]) <= memory


def test_engines_include_the_servers_python(server: Server) -> None:
    body = server.client.get(f"{server.v1}/job/ai-engines").json()
    python = [e for e in body["engines"] if e["engine_name"] == "Python"]
    assert python and python[0]["engine_id"] == 1
    assert set(python[0]) == {"engine_type", "engine_id", "engine_name", "engine_version"}


def test_catalog_file_replaces_specs_and_engines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.toml").write_text(
        """
default_engine_id = 7

[[engines]]
engine_id = 7
engine_name = "Python-custom"
engine_version = "py-custom"

[[specs]]
spec_id = 42
spec_code = "tiny"
core = 1
cpu = 2
gpu_num = 0
gpu_type = ""
max_num = 3
"""
    )
    server = Server(data).start()
    try:
        specs = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"]
        assert [(s["spec_id"], s["core"], s["cpu"], s["max_num"]) for s in specs] == [
            (42, "1", "2", 3)
        ]
        engines = server.client.get(f"{server.v1}/job/ai-engines").json()["engines"]
        assert [e["engine_id"] for e in engines] == [7]
        created = server.create_job(QUICK, spec_id=42)
        version = server.wait_status(created["job_id"], created["version_id"])
        assert (version["status"], version["engine_id"], version["engine_name"]) == (
            10,
            7,
            "Python-custom",
        )
        assert version["core"] == "1"
    finally:
        server.stop()
