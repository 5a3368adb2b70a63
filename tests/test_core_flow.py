"""The whole path a newcomer takes: upload, create, watch, derive, read back."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from conftest import Server, assert_envelope, unique_name

TRAIN = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--data_url"); p.add_argument("--train_url")
p.add_argument("--learning_rate", default="none"); p.add_argument("--epochs", default="1")
a = p.parse_args()
print("learning_rate", a.learning_rate, "epochs", a.epochs)
with open(os.path.join(a.train_url, "result.txt"), "w") as f:
    f.write(f"{a.learning_rate} {a.epochs}")
"""

SEED_VERSION_FIELDS = {
    "version_id": int, "version_name": str, "pre_version_id": int, "engine_type": int,
    "engine_name": str, "engine_id": int, "engine_version": str, "status": int, "app_url": str,
    "boot_file_url": str, "create_time": int, "parameter": list, "duration": int, "spec_id": int,
    "core": str, "cpu": str, "gpu": bool, "gpu_num": int, "gpu_type": str,
    "worker_server_num": int, "data_url": str, "train_url": str, "log_url": str,
    "dataset_version_id": str, "dataset_id": str, "data_source": list, "model_id": int,
    "model_metric_list": str, "system_metric_list": str, "user_image_url": str,
    "user_command": str, "resource_id": str, "dataset_name": str, "start_time": int,
    "volumes": list, "dataset_version_name": str, "pool_name": str, "pool_id": str,
    "nas_mount_path": str, "nas_share_addr": str, "nas_type": str,
}  # fmt: skip


def test_health_and_credentials(server: Server) -> None:
    assert server.client.get("/health").json() == {"status": "ok", "sandbox": True}
    creds_path = server.data_dir / "credentials.json"
    creds = json.loads(creds_path.read_text())
    assert set(creds) >= {"endpoint", "project_id", "token"}
    assert len(creds["project_id"]) == 32 and int(creds["project_id"], 16) >= 0
    assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600


def test_version_runs_to_completion_with_parameters_and_outputs(server: Server) -> None:
    created = server.create_job(
        TRAIN,
        parameter=[{"label": "learning_rate", "value": 0.01}, {"label": "epochs", "value": "3"}],
    )
    assert created["is_success"] is True
    assert created["version_name"] == "V0001" and created["status"] == 1
    assert isinstance(created["job_id"], int) and isinstance(created["version_id"], int)
    version = server.wait_status(created["job_id"], created["version_id"])
    assert version["status"] == 10, server.log_text(created["job_id"], created["version_id"])
    assert version["start_time"] >= created["create_time"]
    assert 0 < version["duration"] < 60_000
    assert version["parameter"] == [
        {"label": "learning_rate", "value": "0.01"},
        {"label": "epochs", "value": "3"},
    ]
    output = server.obs_dir / version["train_url"].strip("/") / "result.txt"
    assert output.read_text() == "0.01 3"
    assert "learning_rate 0.01 epochs 3" in server.log_text(
        created["job_id"], created["version_id"]
    )


def test_seed_flow_lists_versions_newest_first_with_seed_types(server: Server) -> None:
    created = server.create_job(TRAIN, parameter=[{"label": "learning_rate", "value": "0.1"}])
    job_id = created["job_id"]
    server.wait_status(job_id, created["version_id"])
    ids = [created["version_id"]]
    for i in range(5):
        r = server.client.post(
            f"{server.v1}/training-jobs/{job_id}/versions",
            json={"config": {"parameter": [{"label": "learning_rate", "value": f"0.{i}"}]}},
        )
        assert r.status_code == 200, r.text
        assert r.json()["version_name"] == f"V{i + 2:04d}"
        ids.append(r.json()["version_id"])
        server.wait_status(job_id, ids[-1])
    r = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions?per_page=5&page=1")
    body = r.json()
    assert body["is_success"] is True and body["version_count"] == 6
    assert [v["version_id"] for v in body["versions"]] == sorted(ids, reverse=True)[:5]
    for v in body["versions"]:
        for field, kind in SEED_VERSION_FIELDS.items():
            assert isinstance(v[field], kind), (field, v[field])
        json.loads(v["model_metric_list"])
        json.loads(v["system_metric_list"])
    # each derived version names its parent and inherits its config
    newest = body["versions"][0]
    assert newest["pre_version_id"] == ids[-2]
    assert newest["app_url"] == server.version(job_id, ids[0])["app_url"]
    assert newest["parameter"] == [{"label": "learning_rate", "value": "0.4"}]
    assert newest["status"] == 10


def test_derived_version_overrides_only_what_it_sends(server: Server) -> None:
    created = server.create_job(TRAIN, parameter=[{"label": "learning_rate", "value": "1"}])
    job_id = created["job_id"]
    r = server.client.post(
        f"{server.v1}/training-jobs/{job_id}/versions",
        json={"job_desc": "second try", "config": {"pre_version_id": created["version_id"]}},
    )
    assert r.status_code == 200, r.text
    second = server.wait_status(job_id, r.json()["version_id"])
    first = server.wait_status(job_id, created["version_id"])
    assert second["parameter"] == first["parameter"]
    assert second["pre_version_id"] == first["version_id"]
    assert second["train_url"] != first["train_url"]  # default outputs are per version
    assert second["job_desc"] == "second try"


def test_job_created_without_version(server: Server) -> None:
    app_url, boot = server.upload_script(TRAIN)
    r = server.client.post(
        f"{server.v1}/training-jobs",
        json={
            "job_name": unique_name(),
            "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
                       "spec_id": 1, "create_version": False},
        },
    )  # fmt: skip
    body = r.json()
    assert (body["version_id"], body["version_name"], body["status"]) == (0, "", 0)
    listed = server.client.get(f"{server.v1}/training-jobs/{body['job_id']}/versions").json()
    assert listed["version_count"] == 0 and listed["versions"] == []
    r = server.client.post(
        f"{server.v1}/training-jobs/{body['job_id']}/versions",
        json={"config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
                         "spec_id": 1}},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["version_name"] == "V0001"
    assert server.version(body["job_id"], r.json()["version_id"])["pre_version_id"] == 0


def test_failing_boot_file_fails_the_version_with_a_reason(server: Server) -> None:
    created = server.create_job("import sys\nprint('about to fail')\nsys.exit(3)\n")
    version = server.wait_status(created["job_id"], created["version_id"])
    assert version["status"] == 11
    assert version["failure_reason"] == "worker 0 exited with code 3"
    log = server.log_text(created["job_id"], created["version_id"])
    assert "about to fail" in log and "exited with code 3" in log


def test_duplicate_job_name_is_refused(server: Server) -> None:
    name = unique_name()
    server.create_job(TRAIN, name=name)
    app_url, boot = server.upload_script(TRAIN)
    r = server.client.post(
        f"{server.v1}/training-jobs",
        json={"job_name": name, "config": {"worker_server_num": 1, "app_url": app_url,
                                            "boot_file_url": boot, "spec_id": 1}},
    )  # fmt: skip
    assert_envelope(r, 400, "ModelArts.0103")


def test_relative_data_dir_as_make_serve_uses_it(tmp_path: Path) -> None:
    server = Server(tmp_path / "trainjobs-data", cwd=tmp_path).start()
    try:
        created = server.create_job(TRAIN, parameter=[{"label": "epochs", "value": "2"}])
        version = server.wait_status(created["job_id"], created["version_id"])
        assert version["status"] == 10, server.log_text(created["job_id"], created["version_id"])
    finally:
        server.stop()


def test_pages_stay_consistent_after_deletes(server: Server) -> None:
    created = server.create_job("print(1)\n")
    job_id = created["job_id"]
    ids = [created["version_id"]]
    for _ in range(6):
        r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
        ids.append(r.json()["version_id"])

    def pages() -> list[int]:
        seen: list[int] = []
        for page in range(1, 10):
            body = server.client.get(
                f"{server.v1}/training-jobs/{job_id}/versions", params={"per_page": 2, "page": page}
            ).json()
            seen += [v["version_id"] for v in body["versions"]]
        return seen

    everything = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    assert [v["version_id"] for v in everything["versions"]] == ids[::-1] == pages()
    server.client.delete(f"{server.v1}/training-jobs/{job_id}/versions/{ids[3]}")
    remaining = [i for i in ids if i != ids[3]][::-1]
    assert pages() == remaining
    body = server.client.get(
        f"{server.v1}/training-jobs/{job_id}/versions", params={"page": 2, "per_page": 2}
    ).json()
    assert (
        body["version_count"] == 6 and [v["version_id"] for v in body["versions"]] == remaining[2:4]
    )
