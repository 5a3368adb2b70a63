"""Clients of the object endpoint: a user with an access key, and boto3 signing with it."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config

from conftest import Server
from iam_helpers import make_user


def boto_client(server: Server, ak: str, sk: str, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.obs_endpoint,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            **config,
        ),
    )


@pytest.fixture(scope="session")
def user(server: Server) -> dict[str, Any]:
    """A member of the default project with an access key."""
    return make_user(server, with_aksk=True)


@pytest.fixture(scope="session")
def s3(server: Server, user: dict[str, Any]) -> Any:
    return boto_client(server, user["access_key"], user["secret_key"])


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
