"""Hostile boot files, run as real versions through the API: each tries to reach
what is not its run's and must be refused by the sandbox. And what a run may
do: a private /cache and /tmp, host_path volumes, an environment without the
server's secrets."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from conftest import Server, assert_envelope, unique_name
from sandbox_scripts import KILL, LIST, READ, SLEEPER, WALK_UP, WRITE, needs_bwrap

pytestmark = needs_bwrap

SERVER_SECRET = f"aws-{secrets.token_hex(12)}"
OBS_SECRET = f"obs-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def volume_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("volume")
    (folder / "hello.txt").write_text("from the host")
    folder.chmod(0o755)
    (folder / "hello.txt").chmod(0o644)
    return folder


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory, volume_dir: Path) -> Iterator[Server]:
    """A server holding secrets in its environment, as operators give them."""
    root = tmp_path_factory.mktemp("sandboxed")
    env = {
        "AWS_SECRET_ACCESS_KEY": SERVER_SECRET,
        "OBS_SECRET_ACCESS_KEY": OBS_SECRET,
        "TRAINJOBS_RUN_ENV_PASSTHROUGH": "TJ_OPERATOR_SETTING",
        "TJ_OPERATOR_SETTING": "handed-through",
        "TRAINJOBS_HOST_PATH_ALLOW": str(volume_dir.parent),
    }
    srv = Server(root / "data", env=env).start()
    yield srv
    srv.stop()
    srv.drop()


def run_script(
    server: Server, source: str, targets: Any = (), timeout_s: float = 90, **config: Any
) -> tuple[dict[str, Any], str]:
    params = [{"label": "targets", "value": json.dumps(list(targets))}]
    created = server.create_job(source, parameter=params, **config)
    version = server.wait_status(created["job_id"], created["version_id"], timeout_s=timeout_s)
    return version, server.log_text(created["job_id"], created["version_id"])


def assert_refused(server: Server, source: str, targets: Any, count: int | None = None) -> str:
    version, log = run_script(server, source, targets)
    assert "LEAK" not in log, log
    assert version["status"] == 10, log  # the script ran to its end, every attempt refused
    assert log.count("refused") >= (len(list(targets)) if count is None else count), log
    return log


@pytest.fixture(scope="module")
def other_run(sandboxed: Server) -> Iterator[dict[str, Any]]:
    """A version of the same project running beside the hostile ones."""
    yield from running_beside(sandboxed)


def running_beside(sandboxed: Server) -> Iterator[dict[str, Any]]:
    created = sandboxed.create_job(SLEEPER)
    job_id, version_id = created["job_id"], created["version_id"]
    sandboxed.wait_status(job_id, version_id, {8})
    output = sandboxed.data_dir / "runs" / str(version_id) / "output"
    deadline = time.monotonic() + 30
    while not (output / "ready").exists():
        assert time.monotonic() < deadline, sandboxed.log_text(job_id, version_id)
        time.sleep(0.05)
    yield {"job_id": job_id, "version_id": version_id, "output": output}
    sandboxed.client.post(f"{sandboxed.v1}/training-jobs/{job_id}/versions/{version_id}/stop")


def _data(server: Server) -> Path:
    return server.data_dir.resolve()


def test_credentials_database_and_key_file_cannot_be_read(sandboxed: Server) -> None:
    data = _data(sandboxed)
    targets = [data / "credentials.json", data / "trainjobs.db", data / "secret.key"]
    if not sandboxed.database_url.startswith("sqlite"):
        targets.remove(data / "trainjobs.db")
    assert all(t.exists() for t in targets)  # they are there, outside the sandbox
    assert_refused(sandboxed, READ, [str(t) for t in targets])


def test_walking_up_from_the_working_folder_finds_nothing_of_the_server(sandboxed: Server) -> None:
    names = ["credentials.json", "trainjobs.db", "secret.key", "obs", "store.json"]
    assert_refused(sandboxed, WALK_UP, names, count=1)


def test_object_store_and_run_folders_cannot_be_listed_or_read(
    sandboxed: Server, other_run: dict[str, Any]
) -> None:
    data = _data(sandboxed)
    own_code = next(sandboxed.obs_dir.glob("*/app/train.py"))  # a project's stored object
    secret = other_run["output"] / "secret.txt"
    assert secret.exists() and own_code.exists()
    assert_refused(sandboxed, READ, [str(secret), str(own_code.resolve())])
    folders = [data / "obs", sandboxed.obs_dir.resolve(), data / "runs", other_run["output"]]
    assert_refused(sandboxed, LIST, [str(f) for f in folders])


def test_server_proc_entries_cannot_be_read(sandboxed: Server) -> None:
    assert sandboxed.proc is not None
    pid = sandboxed.proc.pid
    assert Path(f"/proc/{pid}/environ").exists()
    log = assert_refused(sandboxed, READ, [f"/proc/{pid}/environ", f"/proc/{pid}/cmdline"])
    assert SERVER_SECRET not in log
    assert_refused(sandboxed, LIST, [f"/proc/{pid}/fd", f"/proc/{pid}/root"])


def test_data_dir_cannot_be_written(sandboxed: Server) -> None:
    data = _data(sandboxed)
    targets = [data / "pwned", data / "runs" / "pwned", data / "obs" / "pwned"]
    assert_refused(sandboxed, WRITE, [str(t) for t in targets])
    assert not any(t.exists() for t in targets)


def test_server_and_other_runs_cannot_be_killed(
    sandboxed: Server, other_run: dict[str, Any]
) -> None:
    assert sandboxed.proc is not None
    state = sandboxed.data_dir / "runs" / str(other_run["version_id"]) / "workers"
    parent = psutil.Process(json.loads((state / "0.pid").read_text())["pid"])
    victims = [parent.pid, *(p.pid for p in parent.children(recursive=True))]
    log = assert_refused(sandboxed, KILL, [sandboxed.proc.pid, *victims])
    assert all(psutil.pid_exists(p) for p in victims), log
    assert sandboxed.proc.poll() is None
    version = sandboxed.version(other_run["job_id"], other_run["version_id"])
    assert version["status"] == 8


def test_a_run_sees_only_its_own_processes(sandboxed: Server) -> None:
    script = (
        "import os\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "print('pids', pids, 'me', os.getpid(), 'uid', os.getuid(), flush=True)\n"
        "assert len(pids) <= 4, pids\n"  # the sandbox's init, this script, maybe a reader
        "assert os.getpid() < 10\n"
        "if os.getuid() == 0 or os.geteuid() == 0:\n"
        "    raise SystemExit('LEAK: root inside the sandbox')\n"
    )
    version, log = run_script(sandboxed, script)
    assert version["status"] == 10, log
    assert "LEAK" not in log


def test_environment_holds_none_of_the_servers_secrets(sandboxed: Server) -> None:
    script = "import os, json\nprint('ENV', json.dumps(dict(os.environ)), flush=True)\n"
    version, log = run_script(sandboxed, script)
    assert version["status"] == 10, log
    line = next(x for x in log.splitlines() if x.startswith("ENV "))
    env = json.loads(line[4:])
    for secret in (SERVER_SECRET, OBS_SECRET, sandboxed.database_url):
        assert secret not in line
    assert not any(k.startswith("OBS_") for k in env)
    # The only AWS_ names are the run's own temporary key for the object endpoint.
    assert {k for k in env if k.startswith("AWS_")} <= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    if "AWS_SECRET_ACCESS_KEY" in env:
        assert env["AWS_SECRET_ACCESS_KEY"] == env["SECRET_ACCESS_KEY"] != SERVER_SECRET
    assert "TRAINJOBS_DATABASE_URL" not in env
    # The run contract and the operator's explicit pass-through are there.
    assert env["TJ_OPERATOR_SETTING"] == "handed-through"
    assert env["RANK"] == "0" and env["WORLD_SIZE"] == "1" and "PATH" in env
    assert env["HOME"] == "/cache"


PRIVATE = """\
import os, sys, time
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if "=" in a)
me, out = args["me"], os.environ["TRAINJOBS_TRAIN_URL"]
for folder in ("/cache", "/tmp"):
    with open(os.path.join(folder, me), "w") as f:
        f.write(me)
open(os.path.join(out, "ready"), "w").write("")
while not os.path.exists(os.path.join(out, "go")):
    time.sleep(0.05)
# Folders bound from under the host's /tmp (the test's data dir, a checkout) have
# their mount points made in the run's own /tmp: those are the run's, not another's.
seen = {f: sorted(os.listdir(f)) for f in ("/cache", "/tmp")}
print("seen", seen, flush=True)
for folder, names in seen.items():
    assert me in names and not {"alpha", "beta"} - {me} & set(names), (folder, names)
"""


def test_cache_and_tmp_are_writable_and_private_to_each_run(sandboxed: Server) -> None:
    runs = []
    for me in ("alpha", "beta"):
        created = sandboxed.create_job(
            PRIVATE, parameter=[{"label": "me", "value": me}], name=unique_name()
        )
        runs.append(created)
    outputs = [sandboxed.data_dir / "runs" / str(c["version_id"]) for c in runs]
    deadline = time.monotonic() + 60
    while not all((o / "output" / "ready").exists() for o in outputs):
        assert time.monotonic() < deadline, [sandboxed.log_text(0, c["version_id"]) for c in runs]
        time.sleep(0.05)
    # Both are running, each wrote its files: they lie in the run's own folder.
    for created, root, me in zip(runs, outputs, ("alpha", "beta"), strict=True):
        assert sandboxed.version(created["job_id"], created["version_id"])["status"] == 8
        assert (root / "scratch" / "0" / "cache" / me).read_text() == me
        assert (root / "scratch" / "0" / "tmp" / me).read_text() == me
    for root in outputs:
        (root / "output" / "go").write_text("")
    for created, root in zip(runs, outputs, strict=True):
        version = sandboxed.wait_status(created["job_id"], created["version_id"])
        assert version["status"] == 10, sandboxed.log_text(0, created["version_id"])
        # Gone with the run's clean-up, which follows the final status.
        deadline = time.monotonic() + 10
        while (root / "scratch").exists():
            assert time.monotonic() < deadline, list((root / "scratch").rglob("*"))
            time.sleep(0.05)


VOLUME = """\
import os
print("read", open("/mnt/shared/hello.txt").read(), flush=True)
try:
    open("/mnt/shared/new.txt", "w").write("x")
except OSError as exc:
    print("refused write", type(exc).__name__, exc.errno, flush=True)
else:
    print("LEAK wrote into a read-only volume", flush=True)
"""


def test_read_only_host_path_volume_appears_at_its_dest_path(
    sandboxed: Server, volume_dir: Path
) -> None:
    volumes = [
        {"host_path": {"src_path": str(volume_dir), "dest_path": "/mnt/shared", "read_only": True}}
    ]
    version, log = run_script(sandboxed, VOLUME, volumes=volumes)
    assert version["status"] == 10, log
    assert "read from the host" in log
    assert "refused write OSError 30" in log and "LEAK" not in log  # EROFS
    assert not (volume_dir / "new.txt").exists()


@pytest.mark.parametrize(
    ("volume", "words"),
    [
        ({"host_path": {"src_path": "/", "dest_path": "/mnt/root"}}, "not among the host folders"),
        ({"host_path": {"src_path": "/etc", "dest_path": "/mnt/etc"}}, "not among the host"),
        ({"host_path": {"src_path": "/no/such/folder", "dest_path": "/mnt/x"}}, "not a folder"),
        ({"host_path": {"src_path": "relative", "dest_path": "/mnt/x"}}, "absolute"),
        ({"nfs": {"id": "n1", "src_path": "10.0.0.1:/share", "dest_path": "/mnt/n"}}, "nfs"),
    ],
)
def test_volumes_the_server_will_not_provide_are_refused_at_create_time(
    sandboxed: Server, volume: dict[str, Any], words: str
) -> None:
    app_url, boot = sandboxed.upload_script("print('never runs')\n")
    body = {
        "job_name": unique_name(),
        "config": {
            "worker_server_num": 1,
            "app_url": app_url,
            "boot_file_url": boot,
            "spec_id": 1,
            "volumes": [volume],
        },
    }
    r = sandboxed.client.post(f"{sandboxed.v1}/training-jobs", json=body)
    assert words in assert_envelope(r, 400, "ModelArts.0104")["error_message"]


def test_volume_over_a_system_folder_is_refused(sandboxed: Server, volume_dir: Path) -> None:
    app_url, boot = sandboxed.upload_script("print('never runs')\n")
    volume = {"host_path": {"src_path": str(volume_dir), "dest_path": "/usr/lib"}}
    body = {
        "job_name": unique_name(),
        "config": {
            "worker_server_num": 1,
            "app_url": app_url,
            "boot_file_url": boot,
            "spec_id": 1,
            "volumes": [volume],
        },
    }
    r = sandboxed.client.post(f"{sandboxed.v1}/training-jobs", json=body)
    assert "system folder" in assert_envelope(r, 400, "ModelArts.0104")["error_message"]


def test_health_and_startup_line_report_the_sandbox(sandboxed: Server) -> None:
    assert httpx.get(f"{sandboxed.base}/health").json() == {"status": "ok", "sandbox": True}
    banner = (sandboxed.data_dir.parent / f"serve-{sandboxed.port}.log").read_text()
    assert "sandbox: bubblewrap" in banner
