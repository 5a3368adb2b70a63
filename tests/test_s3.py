"""The object store on S3: moto's S3 server on loopback stands in for OBS, MinIO or Ceph.

The store's operations behave as on the local folder; a real ``trainjobs serve``
configured for S3 stages code from the bucket and uploads outputs and logs to it,
and ``trainjobs obs`` and ``session.obs`` beside it reach the same bucket unconfigured.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from conftest import TRAINJOBS, Server, free_port, unique_name
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.store import StoreUnavailable, adopt_unowned_buckets

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Hermetic: no profile of the machine's, and no wait on an instance-metadata service.
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}
STORE_ENV = ("TRAINJOBS_OBJECT_STORE_URL", "TRAINJOBS_OBS_ENDPOINT")
CLIENT_ENV = ("TRAINJOBS_ENDPOINT", "TRAINJOBS_TOKEN", "TRAINJOBS_PROJECT_ID", "TRAINJOBS_DATA_DIR")
PROJECT = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*STORE_ENV, *CLIENT_ENV, "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)


def s3(endpoint: str) -> Any:
    """A client of its own, so what the tests check does not go through the code under test."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def new_bucket(endpoint: str) -> str:
    name = f"tj-{uuid.uuid4().hex[:10]}"
    s3(endpoint).create_bucket(Bucket=name)
    return name


def keys(endpoint: str, bucket: str) -> set[str]:
    listed = s3(endpoint).list_objects_v2(Bucket=bucket)
    return {obj["Key"] for obj in listed.get("Contents", [])}


def read(endpoint: str, bucket: str, key: str) -> str:
    body = s3(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    return str(body.decode())


def code_folder(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print(1)\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    return root


def test_store_operations_on_s3_match_the_local_folder(
    endpoint: str, aws: None, tmp_path: Path
) -> None:
    bucket = new_bucket(endpoint)
    store = ObjectStore.from_url(f"s3://{bucket}/tj", endpoint=endpoint).for_project(PROJECT)
    assert not store.is_local
    assert store.buckets() == []  # a namespace with no objects yet
    app = parse_obs_path("/code/app")
    assert store.upload(code_folder(tmp_path / "src"), app) == 2
    assert keys(endpoint, bucket) == {
        f"tj/{PROJECT}/code/app/train.py",
        f"tj/{PROJECT}/code/app/pkg/util.py",
    }
    # S3 has no folders: a prefix with objects under it is one.
    assert store.is_dir(app) and store.is_dir(parse_obs_path("/code"))
    assert not store.is_file(app) and store.is_file(app.join("train.py"))
    assert not store.exists(parse_obs_path("/code/nothing"))
    assert [(e.path, e.is_dir) for e in store.ls(app)] == [
        ("/code/app/pkg", True),
        ("/code/app/train.py", False),
    ]
    assert store.ls(app.join("train.py"))[0].size == len("print(1)\n")
    assert [e.path for e in store.buckets()] == ["/code"]

    assert store.download(app, tmp_path / "back") == 2
    assert (tmp_path / "back" / "pkg" / "util.py").read_text() == "X = 1\n"
    assert store.download(app.join("train.py"), tmp_path / "one.py") == 1

    assert store.copy(app, parse_obs_path("/copy/app")) == 2
    assert store.copy(app.join("train.py"), parse_obs_path("/copy/single.py")) == 1
    assert [e.path for e in store.buckets()] == ["/code", "/copy"]
    store.rm(parse_obs_path("/copy/app"))
    assert not store.exists(parse_obs_path("/copy/app"))
    assert store.is_file(parse_obs_path("/copy/single.py"))
    store.rm(parse_obs_path("/copy"))
    assert [e.path for e in store.buckets()] == ["/code"]


def test_sync_on_s3_uploads_only_changes(endpoint: str, aws: None, tmp_path: Path) -> None:
    bucket = new_bucket(endpoint)
    store = ObjectStore.from_url(f"s3://{bucket}", endpoint=endpoint)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a").write_text("1")
    state: dict[str, tuple[int, int]] = {}
    target = parse_obs_path("/b/out")
    assert store.sync(out, target, state) == 1
    assert store.sync(out, target, state) == 0
    (out / "b").write_text("2")
    (out / "a").write_text("11")
    assert store.sync(out, target, state) == 2
    assert read(endpoint, bucket, "b/out/a") == "11"


def test_projects_on_s3_cannot_reach_each_others_objects(
    endpoint: str, aws: None, tmp_path: Path
) -> None:
    bucket = new_bucket(endpoint)
    root = ObjectStore.from_url(f"s3://{bucket}/shared/prefix", endpoint=endpoint)
    mine, theirs = root.for_project(PROJECT), root.for_project(OTHER)
    secret = tmp_path / "f.txt"
    secret.write_text("secret")
    mine.upload(secret, parse_obs_path("/bkt/f.txt"))
    assert keys(endpoint, bucket) == {f"shared/prefix/{PROJECT}/bkt/f.txt"}
    assert mine.is_file(parse_obs_path("/bkt/f.txt"))
    assert not theirs.exists(parse_obs_path("/bkt/f.txt"))
    assert theirs.buckets() == []
    assert [e.path for e in root.buckets()] == [f"/{PROJECT}"]


def test_unowned_buckets_on_s3_are_left_where_they_are(endpoint: str, aws: None) -> None:
    bucket = new_bucket(endpoint)
    s3(endpoint).put_object(Bucket=bucket, Key="tj/legacy/x.txt", Body=b"x")
    root = ObjectStore.from_url(f"s3://{bucket}/tj", endpoint=endpoint)
    assert adopt_unowned_buckets(root, PROJECT) == []
    assert keys(endpoint, bucket) == {"tj/legacy/x.txt"}


def test_obs_named_credentials_stand_in_for_the_aws_ones(
    endpoint: str, aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("OBS_ACCESS_KEY_ID", "obs-key")
    monkeypatch.setenv("OBS_SECRET_ACCESS_KEY", "obs-secret")
    bucket = new_bucket(endpoint)
    store = ObjectStore.from_url(f"s3://{bucket}", endpoint=endpoint)
    s3fs_fs = store.fs.fs
    assert (s3fs_fs.key, s3fs_fs.secret) == ("obs-key", "obs-secret")
    (tmp_path / "f").write_text("1")
    store.upload(tmp_path / "f", parse_obs_path("/b/f"))
    assert keys(endpoint, bucket) == {"b/f"}


def test_a_missing_bucket_is_refused_before_serving(
    endpoint: str, aws: None, tmp_path: Path
) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        ObjectStore.from_url("s3://no-such-bucket", endpoint=endpoint).check()
    with pytest.raises(StoreUnavailable, match="names no bucket"):
        ObjectStore.from_url("s3://", endpoint=endpoint)
    result = subprocess.run(
        [*TRAINJOBS, "serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()),
         "--object-store-url", "s3://no-such-bucket/tj", "--obs-endpoint", endpoint],
        capture_output=True, text=True, timeout=60, env={**os.environ, **AWS_ENV},
    )  # fmt: skip
    assert result.returncode == 2
    assert "no-such-bucket" in result.stderr and "Traceback" not in result.stderr


TRAIN = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--train_url")
a, _ = p.parse_known_args()
from pkg.util import X
print("staged from s3", X, flush=True)
with open(os.path.join(a.train_url, "result.txt"), "w") as f:
    f.write(f"X={X}")
"""


def _obs(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``trainjobs obs`` as a user beside the server runs it: credentials in the
    environment, but no store configured."""
    env = {k: v for k, v in os.environ.items() if k not in (*STORE_ENV, *CLIENT_ENV)}
    result = subprocess.run(
        [*TRAINJOBS, "obs", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, **AWS_ENV},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_server_on_s3_stages_code_from_it_and_uploads_outputs_to_it(
    endpoint: str, aws: None, tmp_path: Path
) -> None:
    bucket = new_bucket(endpoint)
    data = tmp_path / "data"
    env = {"TRAINJOBS_OBJECT_STORE_URL": f"s3://{bucket}/tj", "TRAINJOBS_OBS_ENDPOINT": endpoint}
    server = Server(data, env={**env, **AWS_ENV}).start()
    try:
        recorded = json.loads((data / "store.json").read_text())
        assert recorded == {"object_store_url": f"s3://{bucket}/tj", "obs_endpoint": endpoint}
        project = server.project_id

        src = code_folder(tmp_path / "code")
        (src / "train.py").write_text(TRAIN)
        assert "copied 2 file(s)" in _obs(data, "cp", str(src), "obs://code/app").stdout
        assert f"tj/{project}/code/app/pkg/util.py" in keys(endpoint, bucket)

        body = {
            "job_name": unique_name(),
            "config": {
                "worker_server_num": 1,
                "app_url": "/code/app/",
                "boot_file_url": "/code/app/train.py",
                "train_url": "/out/result/",
                "log_url": "/out/logs/",
                "spec_id": 1,
            },
        }
        created = server.client.post(f"{server.v1}/training-jobs", json=body)
        assert created.status_code == 200, created.text
        job_id, version_id = created.json()["job_id"], created.json()["version_id"]
        version = server.wait_status(job_id, version_id)
        assert version["status"] == 10, server.log_text(job_id, version_id)

        stored = keys(endpoint, bucket)
        assert read(endpoint, bucket, f"tj/{project}/out/result/result.txt") == "X=1"
        logs = [k for k in stored if k.startswith(f"tj/{project}/out/logs/")]
        assert logs and any("staged from s3" in read(endpoint, bucket, k) for k in logs)
        assert not (data / "obs").exists()  # nothing of the store lands in the data dir

        listing = _obs(data, "ls", "obs://out/result").stdout
        assert "/out/result/result.txt" in listing
        _obs(data, "cp", "obs://out/result/result.txt", str(tmp_path / "result.txt"))
        assert (tmp_path / "result.txt").read_text() == "X=1"

        from trainjobs.sdk import Session

        with Session(data_dir=data) as session:
            got = session.obs.download_file("obs://out/result/result.txt", tmp_path / "sdk")
            assert Path(got).read_text() == "X=1"
            session.obs.upload_file(str(tmp_path / "result.txt"), "obs://from-sdk/")
        assert f"tj/{project}/from-sdk/result.txt" in keys(endpoint, bucket)
    finally:
        server.stop()
        server.drop()
