"""boto3, unmodified, against the running server's object endpoint."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import Server

MIB = 1024 * 1024


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_put_get_head_delete_and_the_same_objects_on_disk(
    server: Server, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello endpoint")
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == b"hello endpoint"
    assert got["ContentLength"] == 14
    head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert head["ContentLength"] == 14 and head["ETag"] == got["ETag"]
    # The endpoint serves the project's namespace: the same object `trainjobs obs` sees.
    assert (server.obs_dir / bucket / "dir" / "hello.txt").read_bytes() == b"hello endpoint"
    (server.obs_dir / bucket / "dir" / "beside.txt").write_bytes(b"put on the server")
    assert s3.get_object(Bucket=bucket, Key="dir/beside.txt")["Body"].read() == (
        b"put on the server"
    )
    s3.delete_object(Bucket=bucket, Key="dir/hello.txt")
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert code_of(missing.value) == "NoSuchKey"
    assert not (server.obs_dir / bucket / "dir" / "hello.txt").exists()


def test_buckets_are_created_listed_and_deleted_only_when_empty(s3: Any, bucket: str) -> None:
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    with pytest.raises(ClientError) as not_empty:
        s3.delete_bucket(Bucket=bucket)
    assert code_of(not_empty.value) == "BucketNotEmpty"
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}, {"Key": "never"}]})
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as gone:
        s3.head_bucket(Bucket=bucket)
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as bad:
        s3.create_bucket(Bucket="Not_A_Bucket")
    assert code_of(bad.value) == "InvalidBucketName"


def test_multipart_upload_of_64_mib_in_8_mib_parts(
    server: Server, s3: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(64 * MIB))
    config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
    s3.upload_file(str(source), bucket, "big/file.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == 64 * MIB
    stored = server.obs_dir / bucket / "big" / "file.bin"
    assert stored.read_bytes() == source.read_bytes()
    # No part is left behind once the upload completes.
    assert not list((server.obs_dir / ".uploads").glob("mp-*"))
    back = tmp_path / "back.bin"
    s3.download_file(bucket, "big/file.bin", str(back), Config=config)
    assert back.read_bytes() == source.read_bytes()


def test_multipart_parts_are_listed_and_an_aborted_upload_leaves_nothing(
    s3: Any, bucket: str
) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="aborted.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="aborted.bin", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    parts = s3.list_parts(Bucket=bucket, Key="aborted.bin", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 10)]
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted.bin", UploadId=upload)
    with pytest.raises(ClientError) as gone:
        s3.list_parts(Bucket=bucket, Key="aborted.bin", UploadId=upload)
    assert code_of(gone.value) == "NoSuchUpload"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_ranged_get(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r.bin", Body=data)
    part = s3.get_object(Bucket=bucket, Key="r.bin", Range="bytes=100-199")
    assert part["Body"].read() == data[100:200]
    assert part["ContentRange"] == f"bytes 100-199/{len(data)}"
    assert (
        s3.get_object(Bucket=bucket, Key="r.bin", Range="bytes=-10")["Body"].read() == (data[-10:])
    )
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket=bucket, Key="r.bin", Range="bytes=5000-")
    assert code_of(beyond.value) == "InvalidRange"


def test_list_with_delimiter_and_continuation(s3: Any, bucket: str) -> None:
    keys = [f"logs/{i:03d}.txt" for i in range(25)] + ["a-b", "a/c", "top.txt", "z/1", "z/2"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    paginator = s3.get_paginator("list_objects_v2")
    listed = [
        o["Key"]
        for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 7})
        for o in page.get("Contents", [])
    ]
    assert listed == sorted(keys)  # S3's order: "a-b" before "a/c"
    pages = list(paginator.paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}))
    files = [o["Key"] for p in pages for o in p.get("Contents", [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert files == ["a-b", "top.txt"]
    assert prefixes == ["a/", "logs/", "z/"]
    assert len(pages) == 3
    under = s3.list_objects_v2(Bucket=bucket, Prefix="logs/01", MaxKeys=3)
    assert [o["Key"] for o in under["Contents"]] == ["logs/010.txt", "logs/011.txt", "logs/012.txt"]
    assert under["IsTruncated"] is True
    rest = s3.list_objects_v2(
        Bucket=bucket, Prefix="logs/01", ContinuationToken=under["NextContinuationToken"]
    )
    assert [o["Key"] for o in rest["Contents"]] == [f"logs/01{i}.txt" for i in range(3, 10)]
    v1 = s3.list_objects(Bucket=bucket, Prefix="z/")
    assert [o["Key"] for o in v1["Contents"]] == ["z/1", "z/2"]


def test_keys_with_spaces_plus_and_non_ascii_round_trip(s3: Any, bucket: str) -> None:
    keys = ["with space.txt", "plus+sign", "é/ü 漢字.txt", "percent%41"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()


def test_copy_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src/a.txt", Body=b"copy me")
    s3.copy_object(
        Bucket=bucket, Key="dst/b.txt", CopySource={"Bucket": bucket, "Key": "src/a.txt"}
    )
    assert s3.get_object(Bucket=bucket, Key="dst/b.txt")["Body"].read() == b"copy me"


def test_presigned_get_works_and_expires(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60
    )
    assert httpx.get(url).content == b"presigned"
    short = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=1
    )
    time.sleep(2.1)
    expired = httpx.get(short)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "expired" in expired.text
    tampered = httpx.get(url.replace("shared.txt", "other.txt"))
    assert tampered.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in tampered.text


def test_folder_keys_are_objects_of_their_own_as_on_s3(
    server: Server, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="made/", Body=b"")
    s3.put_object(Bucket=bucket, Key="held/f.txt", Body=b"x")
    made = s3.head_object(Bucket=bucket, Key="made/")
    assert made["ContentLength"] == 0
    assert s3.get_object(Bucket=bucket, Key="made/")["Body"].read() == b""
    # A folder that only holds keys is no object, and a file holds no keys.
    for absent in ("held/", "held/f.txt/", "held/f.txt/f.txt", "held"):
        with pytest.raises(ClientError) as missing:
            s3.head_object(Bucket=bucket, Key=absent)
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.list_objects_v2(Bucket=bucket, Prefix="held/f.txt/")["KeyCount"] == 0
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["held/f.txt", "made/"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="made/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["made/"]
    s3.put_object(Bucket=bucket, Key="made/inner", Body=b"y")
    s3.delete_object(Bucket=bucket, Key="made/inner")
    s3.copy_object(Bucket=bucket, Key="copied/", CopySource={"Bucket": bucket, "Key": "made/"})
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["copied/", "held/f.txt", "made/"]
    with pytest.raises(ClientError) as marker:
        s3.put_object(Bucket=bucket, Key="made/.trainjobs-bucket", Body=b"")
    assert code_of(marker.value) == "InvalidArgument"
    for key in ("made/", "copied/", "held/f.txt"):
        s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    # Nothing is left on disk: the emptied folders went with their keys.
    assert {p.name for p in (server.obs_dir / bucket).iterdir()} <= {".trainjobs-bucket"}
