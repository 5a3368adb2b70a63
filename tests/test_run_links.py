"""A run that leaves links in its folder never makes the server read or write through them."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from conftest import Server

SECRET = "stand-in-for-the-database " * 4
PLANT = r"""
import glob, os, sys, time
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
rank = int(os.environ["RANK"])
out = os.environ["TRAINJOBS_TRAIN_URL"]
logs = os.path.join(os.path.dirname(out), "logs")
mine = [p for p in glob.glob(os.path.join(logs, "*")) if p.endswith("." + str(rank))][0]
if rank == 0:
    open(os.path.join(out, "real.txt"), "w").write("mine")
    os.symlink(args["target"], os.path.join(out, "stolen.txt"))
    os.symlink(os.path.dirname(args["target"]), os.path.join(out, "stolen-dir"))
    os.symlink(args["target"], os.path.join(out, "model_metrics.json"))
    try:
        os.link(args["target"], os.path.join(out, "hard.txt"))
    except OSError:
        pass
    os.mkfifo(os.path.join(out, "pipe"))
    done = os.path.join(logs, "rank1-done")
    while not os.path.exists(done):  # fail only once the other worker planted its link
        time.sleep(0.05)
    # the log the server appends its notes to, and serves, becomes a link
    os.unlink(mine)
    os.symlink(args["target"], mine)
    sys.exit(3)
# once rank 0 planted its links (this worker may fail below, which ends rank 0):
# a real log, long enough to be indexed, whose index is a link
deadline = time.monotonic() + 60
while not os.path.exists(os.path.join(out, "pipe")) and time.monotonic() < deadline:
    time.sleep(0.05)
print(("x" * 99 + "\n") * 1500, end="", flush=True)
os.symlink(args["index"], mine + ".idx")
open(os.path.join(logs, "rank1-done"), "w").close()
"""


@pytest.fixture(params=["sandboxed", "unsandboxed"])
def any_server(request: pytest.FixtureRequest, server: Server, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The shared (sandboxed) server, and one run with --no-sandbox: there the run
    can reach its log folder, and only the server's own care keeps it safe."""
    if request.param == "sandboxed":
        yield server
        return
    bare = Server(tmp_path / "bare", env={"TRAINJOBS_NO_SANDBOX": "1"}).start()
    yield bare
    bare.stop()
    bare.drop()


def test_links_a_run_leaves_are_never_followed(any_server: Server, tmp_path: Path) -> None:
    server = any_server
    sandboxed = server.env.get("TRAINJOBS_NO_SANDBOX") != "1"
    target = tmp_path / "outside" / "trainjobs.db"
    target.parent.mkdir()
    target.write_text(SECRET)
    index_target = tmp_path / "outside" / "precious"
    index_target.write_bytes(b"precious bytes")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (target, index_target)}
    prefix = uuid.uuid4().hex[:8]
    created = server.create_job(
        PLANT,
        worker_server_num=2,
        spec_id=1,
        train_url=f"/links-{prefix}/out/",
        log_url=f"/links-{prefix}/logs/",
        parameter=[
            {"label": "target", "value": str(target)},
            {"label": "index", "value": str(index_target)},
        ],
    )
    job_id, version_id = created["job_id"], created["version_id"]
    version = server.wait_status(job_id, version_id, timeout_s=120)
    assert version["status"] == 11, version  # rank 0 exits 3

    # the log pages: the linked log reads empty, the real one is served
    base = f"{server.v1}/training-jobs/{job_id}/versions/{version_id}"
    names = server.client.get(f"{base}/log/file-names").json()["log_file_list"]
    pages = {
        name: server.client.get(f"{base}/aom-log", params={"log_file": name, "lines": 500})
        for name in names
    }
    for name, page in pages.items():
        assert page.status_code == 200, page.text
        assert SECRET.strip() not in page.text, name
    assert "x" * 99 in pages[names[1]].json()["content"]
    if sandboxed:  # the log folder is read-only inside the sandbox: nothing was planted
        logs = server.data_dir / "runs" / str(version_id) / "logs"
        assert not any(p.is_symlink() for p in logs.iterdir()), list(logs.iterdir())
    more = server.client.get(
        f"{base}/aom-log",
        params={"log_file": names[1], "lines": 10, "base_line": 5, "order": "desc"},
    )
    assert more.status_code == 200

    # uploads: the plain files only
    out = server.obs_dir / f"links-{prefix}" / "out"
    assert (out / "real.txt").read_text() == "mine"
    assert sorted(os.listdir(out)) == ["real.txt"]
    uploaded_logs = sorted(os.listdir(server.obs_dir / f"links-{prefix}" / "logs"))
    # unsandboxed, rank 0's log became a link and is left out; sandboxed, it could not
    assert uploaded_logs == (sorted(names) if sandboxed else [names[1]])
    for folder in (out.parent,):
        for path in folder.rglob("*"):
            if path.is_file():
                assert SECRET not in path.read_text(errors="replace"), path
    assert SECRET.strip() not in str(server.version(job_id, version_id))

    # nothing outside the run was written, appended to or truncated
    for path, (content, mtime) in before.items():
        assert path.read_bytes() == content, path
        assert path.stat().st_mtime_ns == mtime, path
