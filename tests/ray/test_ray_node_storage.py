"""A Ray cluster without shared storage: each node runs its workers in a run folder
of its own, staged from the object store through the object endpoint; outputs go
back there, and logs reach the server while they are written."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from raytest import ADDRESS, NAMESPACE, ray_server, requires_ray, wait_until

from conftest import Server

ray = pytest.importorskip("ray")
pytestmark = requires_ray

NODE_ROOTS = [Path(p) for p in os.environ.get("TRAINJOBS_TEST_NODE_RUN_ROOTS", "").split(":") if p]

# Each rank says where it runs and what it was given, writes an output, then
# waits for the test's go (an object in the store, through moxing) so the test
# can read the logs and the outputs uploaded so far while the run goes on.
BOOT = """
import argparse, json, os, time
import moxing as mox
p = argparse.ArgumentParser()
p.add_argument("--data_url"); p.add_argument("--train_url"); p.add_argument("--go")
a = p.parse_args()
rank = os.environ["RANK"]
here = os.path.dirname(os.path.abspath(__file__))
print("rank", rank, "code in", here, "cwd", os.getcwd(), flush=True)
with open(os.path.join(a.data_url, "input.txt")) as f:
    seen = f.read()
print("rank", rank, "read", seen, flush=True)
with open(os.path.join(a.train_url, "out-" + rank + ".txt"), "w") as f:
    f.write(seen + " seen by " + rank)
if rank == "0":
    with open(os.path.join(a.train_url, "metric.json"), "w") as f:
        json.dump({"total_metric": {"total_metric_values": {"accuracy": 0.9712}}}, f)
deadline = time.monotonic() + 120
while not mox.file.exists(a.go) and time.monotonic() < deadline:
    time.sleep(0.2)
print("rank", rank, "done", flush=True)
"""


@pytest.fixture(scope="module", autouse=True)
def ray_driver() -> Iterator[None]:
    ray.init(address=ADDRESS, namespace=NAMESPACE, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    srv = ray_server(tmp_path / "data", shared=False)
    yield srv
    srv.stop()


def _log(server: Server, job_id: int, version_id: int, rank: int) -> str:
    base = f"{server.v1}/training-jobs/{job_id}/versions/{version_id}"
    names = server.client.get(f"{base}/log/file-names").json()["log_file_list"]
    r = server.client.get(f"{base}/aom-log", params={"log_file": names[rank], "lines": 500})
    assert r.status_code == 200, r.text
    content: str = r.json()["content"]
    return content


def _where(log: str, rank: int) -> Path:
    """The code folder rank ``rank`` said it ran from."""
    line = next(x for x in log.splitlines() if x.startswith(f"rank {rank} code in "))
    return Path(line.split(" code in ", 1)[1].split(" cwd ", 1)[0])


@pytest.mark.skipif(len(NODE_ROOTS) != 2, reason="run.sh gives each node a run root")
def test_two_workers_run_in_node_local_folders_staged_from_the_store(served: Server) -> None:
    tag = uuid.uuid4().hex[:8]
    data, out, go = f"/data-{tag}/in/", f"/models-{tag}/out/", f"obs://flags-{tag}/go"
    (served.data_dir.parent / "input.txt").write_text(f"input {tag}")
    served.upload(served.data_dir.parent / "input.txt", f"{data}input.txt")
    created = served.create_job(
        BOOT,
        worker_server_num=2,
        data_url=data,
        train_url=out,
        parameter=[{"label": "go", "value": go}],
    )
    job_id, version_id = created["job_id"], created["version_id"]
    served.wait_status(job_id, version_id, {8}, timeout_s=120)

    # While it runs: both logs through the API, from two different node folders.
    for rank in (0, 1):
        wait_until(
            lambda r=rank: f"rank {r} read input {tag}" in _log(served, job_id, version_id, r),
            90,
            f"rank {rank}'s log while it runs",
        )
    logs = [_log(served, job_id, version_id, r) for r in (0, 1)]
    places = [_where(logs[r], r) for r in (0, 1)]
    roots = sorted({next(i for i, root in enumerate(NODE_ROOTS) if p.is_relative_to(root))
                    for p in places})  # fmt: skip
    assert roots == [0, 1], places  # one worker a node, each in its node's own folder
    for place in places:
        assert place.is_dir() and not place.is_relative_to(served.data_dir)
        assert (place / "train.py").is_file()  # staged from the version's code snapshot
    # The outputs so far are in the store before the run ends (periodic upload).
    store_out = served.obs_dir / f"models-{tag}" / "out"
    wait_until(lambda: (store_out / "out-1.txt").is_file(), 30, "the outputs so far")
    assert served.version(job_id, version_id)["status"] == 8
    # ... and the server's own run folder never saw them.
    assert not list((served.data_dir / "runs" / str(version_id) / "output").glob("out-*"))

    served.upload(served.data_dir.parent / "input.txt", go.replace("obs:/", ""))
    version = served.wait_status(job_id, version_id, timeout_s=120)
    after = [_log(served, job_id, version_id, r) for r in (0, 1)]
    assert version["status"] == 10, after
    for rank in (0, 1):
        assert f"rank {rank} done" in after[rank]
        assert (store_out / f"out-{rank}.txt").read_text() == f"input {tag} seen by {rank}"
    metrics = json.loads(version["model_metric_list"])
    assert metrics["total_metric"]["total_metric_values"]["accuracy"] == 0.9712
    # The nodes' folders go with the run.
    wait_until(lambda: not any(p.exists() for p in places), 30, "the node folders to go")


# An output the object store cannot hold (its key is over S3's 1,024 bytes).
UNUPLOADABLE = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--data_url"); p.add_argument("--train_url")
a = p.parse_args()
deep = os.path.join(a.train_url, *(["d" * 200] * 6))
os.makedirs(deep)
with open(os.path.join(deep, "weights.bin"), "w") as f:
    f.write("lost")
print("wrote an output too deep for the store", flush=True)
"""


def test_outputs_a_node_cannot_upload_fail_the_run(served: Server) -> None:
    out = f"/models-{uuid.uuid4().hex[:8]}/out/"
    created = served.create_job(UNUPLOADABLE, train_url=out)
    version = served.wait_status(created["job_id"], created["version_id"], timeout_s=120)
    # The worker exited 0, but its outputs are not in the store: that is no success.
    assert version["status"] == 11, version
    assert "upload" in version["failure_reason"], version["failure_reason"]
