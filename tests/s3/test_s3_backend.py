"""The endpoint serves whatever store the server has: here an S3 bucket (moto's S3
server on loopback standing in for OBS or MinIO), with the same namespaces."""

from __future__ import annotations

import os
from pathlib import Path

from boto3.s3.transfer import TransferConfig

from conftest import Server
from iam_helpers import make_user
from s3.conftest import boto_client
from test_s3 import AWS_ENV, aws, endpoint, keys, new_bucket, read  # noqa: F401 (fixtures)

MIB = 1024 * 1024


def test_the_endpoint_over_an_s3_store_writes_into_the_projects_namespace(
    endpoint: str,  # noqa: F811
    aws: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    backing = new_bucket(endpoint)
    env = {
        "TRAINJOBS_OBJECT_STORE_URL": f"s3://{backing}/tj",
        "TRAINJOBS_OBS_ENDPOINT": endpoint,
        **AWS_ENV,
    }
    server = Server(tmp_path / "data", env=env).start()
    try:
        user = make_user(server, with_aksk=True)
        s3 = boto_client(server, user["access_key"], user["secret_key"])
        prefix = f"tj/{server.project_id}"
        s3.create_bucket(Bucket="empty-one")
        s3.create_bucket(Bucket="data")
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} >= {"empty-one", "data"}
        s3.put_object(Bucket="data", Key="dir/a.txt", Body=b"on s3")
        assert read(endpoint, backing, f"{prefix}/data/dir/a.txt") == "on s3"
        assert s3.get_object(Bucket="data", Key="dir/a.txt")["Body"].read() == b"on s3"
        listed = s3.list_objects_v2(Bucket="data", Delimiter="/")
        assert [c["Prefix"] for c in listed["CommonPrefixes"]] == ["dir/"]

        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(12 * MIB))
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
        s3.upload_file(str(big), "data", "big.bin", Config=config)
        assert s3.head_object(Bucket="data", Key="big.bin")["ContentLength"] == 12 * MIB
        got = s3.get_object(Bucket="data", Key="big.bin", Range="bytes=6291456-6291465")
        assert got["Body"].read() == big.read_bytes()[6 * MIB : 6 * MIB + 10]
        assert not [k for k in keys(endpoint, backing) if "/.uploads/" in k]

        s3.delete_object(Bucket="data", Key="dir/a.txt")
        assert f"{prefix}/data/dir/a.txt" not in keys(endpoint, backing)
        s3.delete_bucket(Bucket="empty-one")
        assert "empty-one" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    finally:
        server.stop()
        server.drop()
