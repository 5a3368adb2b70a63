"""s3fs (fsspec) and Huawei's OBS SDK, unmodified, against the object endpoint; and
an object uploaded through it used as a version's code folder."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import s3fs
from obs import ObsClient

from conftest import Server

TRAIN = """\
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--train_url")
args, _ = parser.parse_known_args()
from helper import GREETING
print(GREETING, flush=True)
"""


def test_s3fs_writes_lists_and_reads(server: Server, user: dict[str, Any], bucket: str) -> None:
    fs = s3fs.S3FileSystem(
        key=user["access_key"],
        secret=user["secret_key"],
        client_kwargs={"endpoint_url": server.obs_endpoint, "region_name": "us-east-1"},
        use_listings_cache=False,
    )
    fs.pipe(f"{bucket}/data/one.csv", b"1,2\n")
    fs.pipe(f"{bucket}/data/two.csv", b"3,4\n")
    assert sorted(fs.ls(f"{bucket}/data")) == [f"{bucket}/data/one.csv", f"{bucket}/data/two.csv"]
    assert fs.cat(f"{bucket}/data/two.csv") == b"3,4\n"
    with fs.open(f"{bucket}/data/one.csv", "rb") as f:
        f.seek(2)
        assert f.read() == b"2\n"
    assert fs.info(f"{bucket}/data/one.csv")["size"] == 4
    fs.rm(f"{bucket}/data/one.csv")
    assert not (server.obs_dir / bucket / "data" / "one.csv").exists()


def test_huawei_obs_sdk_with_v4_signatures_puts_and_gets(
    server: Server, user: dict[str, Any], bucket: str
) -> None:
    client = ObsClient(
        access_key_id=user["access_key"],
        secret_access_key=user["secret_key"],
        server=server.obs_endpoint,
        signature="v4",
        path_style=True,
        region="cn-north-4",
    )
    try:
        put = client.putContent(bucket, "obs/sdk.txt", "from the OBS SDK")
        assert put.status < 300, put.errorMessage
        got = client.getObject(bucket, "obs/sdk.txt", loadStreamInMemory=True)
        assert got.status == 200, got.errorMessage
        assert got.body.buffer == b"from the OBS SDK"
        listed = client.listObjects(bucket, prefix="obs/")
        assert [c.key for c in listed.body.contents] == ["obs/sdk.txt"]
        missing = client.getObject(bucket, "obs/none.txt", loadStreamInMemory=True)
        assert missing.status == 404 and missing.errorCode == "NoSuchKey"
    finally:
        client.close()


def test_code_uploaded_through_the_endpoint_runs_as_a_version(
    server: Server, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="app/train.py", Body=TRAIN.encode())
    s3.put_object(Bucket=bucket, Key="app/helper.py", Body=b"GREETING = 'staged from S3'\n")
    body = {
        "job_name": f"s3-{uuid.uuid4().hex[:8]}",
        "config": {
            "worker_server_num": 1,
            "app_url": f"/{bucket}/app/",
            "boot_file_url": f"/{bucket}/app/train.py",
            "train_url": f"/{bucket}/out/",
            "spec_id": 1,
        },
    }
    created = server.client.post(f"{server.v1}/training-jobs", json=body)
    assert created.status_code == 200, created.text
    job = created.json()
    done = server.wait_status(job["job_id"], job["version_id"])
    assert done["status"] == 10, server.log_text(job["job_id"], job["version_id"])
    assert "staged from S3" in server.log_text(job["job_id"], job["version_id"])


def test_catalogue_and_credentials_name_the_endpoint(server: Server, tmp_path: Path) -> None:
    issued = server.client.get("/v3/auth/tokens", headers={"X-Subject-Token": server.token})
    assert issued.status_code == 200, issued.text
    catalogue = issued.json()["token"]["catalog"]
    stores = [s for s in catalogue if s["type"] == "object-store"]
    assert [e["url"] for e in stores[0]["endpoints"]][0] == server.obs_endpoint
    assert server.obs_endpoint.startswith("http://127.0.0.1:")
