"""Code snapshots, exact re-runs and the diff of two versions, through the real server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import Server, assert_envelope, unique_name
from trainjobs.domain import snapshots
from trainjobs.domain.version_diff import code_changes

COMPLETED = 10

TRAIN = """
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--data_url"); p.add_argument("--train_url"); p.add_argument("--lr", default="1")
a, _ = p.parse_known_args()
from helper import MESSAGE
print("message:", MESSAGE, flush=True)
with open(os.path.join(a.train_url, "model_metrics.json"), "w") as f:
    json.dump({"metric": [], "total_metric": {"total_metric_values": {"accuracy": float(a.lr)}}}, f)
"""


def test_digest_is_merkle_over_paths_and_contents(tmp_path: Path) -> None:
    a = tmp_path / "a"
    (a / "pkg").mkdir(parents=True)
    (a / "train.py").write_text("print(1)\n")
    (a / "pkg" / "m.py").write_text("x = 1\n")
    digest, files = snapshots.code_tree(a)
    assert [f.path for f in files] == ["pkg/m.py", "train.py"]
    assert files[1].sha256 == hashlib.sha256(b"print(1)\n").hexdigest()
    b = tmp_path / "b"
    (b / "pkg").mkdir(parents=True)
    (b / "pkg" / "m.py").write_text("x = 1\n")
    (b / "train.py").write_text("print(1)\n")
    assert snapshots.code_tree(b)[0] == digest  # same tree, other place and mtimes
    (b / "pkg" / "m.py").rename(b / "pkg" / "n.py")
    assert snapshots.code_tree(b)[0] != digest  # a renamed file is another tree
    (b / "pkg" / "n.py").rename(b / "pkg" / "m.py")
    (b / "train.py").write_text("print(2)\n")
    assert snapshots.code_tree(b)[0] != digest
    # A link out of the folder is not followed into the digest.
    (b / "train.py").write_text("print(1)\n")
    (b / "escape").symlink_to("/etc")
    assert snapshots.code_tree(b)[0] == digest


def test_code_changes_are_unified_diffs() -> None:
    changes = code_changes(
        {"a.py": b"x = 1\ny = 2\n", "gone.py": b"", "blob.bin": b"\0\1"},
        {"a.py": b"x = 1\ny = 3\n", "new.py": b"z\n", "blob.bin": b"\0\2"},
    )
    by_path = {c.path: c for c in changes}
    assert set(by_path) == {"a.py", "gone.py", "new.py", "blob.bin"}
    assert by_path["a.py"].change == "modified"
    assert "-y = 2\n+y = 3\n" in by_path["a.py"].diff
    assert by_path["a.py"].diff.startswith("--- a/a.py\n+++ b/a.py\n")
    assert by_path["new.py"].change == "added" and "+z" in by_path["new.py"].diff
    assert by_path["gone.py"].change == "removed"
    assert "binary" in by_path["blob.bin"].diff


def _code(server: Server, message: str, bucket: str) -> None:
    folder = server.data_dir.parent / f"{bucket}-{message}"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN)
    (folder / "helper.py").write_text(f"MESSAGE = {message!r}\n")
    server.upload(folder, f"/{bucket}/app")


def test_rerun_runs_the_old_code_after_the_folder_changed(server: Server) -> None:
    bucket = f"snap-{unique_name()}"
    _code(server, "old", bucket)
    body = {
        "job_name": unique_name(),
        "config": {
            "worker_server_num": 1,
            "spec_id": 1,
            "app_url": f"/{bucket}/app/",
            "boot_file_url": f"/{bucket}/app/train.py",
            "parameter": [{"label": "lr", "value": "0.25"}],
        },
    }
    created = server.client.post(f"{server.v1}/training-jobs", json=body).json()
    job, first = created["job_id"], created["version_id"]
    original = server.wait_status(job, first)
    assert original["status"] == COMPLETED, server.log_text(job, first)
    digest = original["code_digest"]
    assert len(digest) == 64 and "message: old" in server.log_text(job, first)
    index = server.obs_dir / "trainjobs" / "code-snapshots" / digest / "index.json"
    assert json.loads(index.read_text())["digest"] == digest

    # The code folder changes: a new ordinary version runs the new code...
    _code(server, "new", bucket)
    url = f"{server.v1}/training-jobs/{job}/versions"
    changed = server.client.post(url, json={"config": {}}).json()["version_id"]
    newer = server.wait_status(job, changed)
    assert newer["status"] == COMPLETED and newer["code_digest"] != digest
    assert "message: new" in server.log_text(job, changed)

    # ...and a re-run of the first runs exactly its snapshot, with its parameters.
    response = server.client.post(url, json={"rerun_of": first})
    assert response.status_code == 200, response.text
    rerun_id = response.json()["version_id"]
    rerun = server.wait_status(job, rerun_id)
    assert rerun["status"] == COMPLETED, server.log_text(job, rerun_id)
    assert rerun["code_digest"] == digest
    assert rerun["pre_version_id"] == first
    assert rerun["parameter"] == [{"label": "lr", "value": "0.25"}]
    assert "message: old" in server.log_text(job, rerun_id)
    # Stored once per distinct digest: two snapshots for three versions.
    kept = server.obs_dir / "trainjobs" / "code-snapshots"
    assert {digest, newer["code_digest"]} <= {p.name for p in kept.iterdir()}

    # The diff of the first and the changed version: parameters equal, code differs.
    found = server.client.get(f"{url}/{first}/diff/{changed}").json()
    assert found["is_success"] is True
    assert found["a"]["code_digest"] == digest
    assert found["parameters"] == []
    assert [f["path"] for f in found["code"]] == ["helper.py"]
    assert "-MESSAGE = 'old'\n+MESSAGE = 'new'\n" in found["code"][0]["diff"]
    # The re-run and its original: the same code and parameters.
    same = server.client.get(f"{url}/{first}/diff/{rerun_id}").json()
    assert same["code"] == [] and same["parameters"] == [] and same["metrics"] == []
    assert same["code_note"] == ""


def test_rerun_and_diff_refusals(server: Server) -> None:
    created = server.create_job("pass\n")
    job, first = created["job_id"], created["version_id"]
    server.wait_status(job, first)
    url = f"{server.v1}/training-jobs/{job}/versions"
    assert_envelope(server.client.post(url, json={"rerun_of": 999999}), 404, "ModelArts.2775")
    pinned = {"rerun_of": first, "config": {"app_url": "/x/y/"}}
    body = assert_envelope(server.client.post(url, json=pinned), 400, "ModelArts.0104")
    assert "app_url" in body["error_message"]
    assert_envelope(server.client.get(f"{url}/{first}/diff/999999"), 404, "ModelArts.2775")
    assert_envelope(server.client.get(f"{url}/{first}/diff/0"), 400, "ModelArts.0104")
