"""Fixtures for the SDK tests: a Session on the shared server, and a code folder to run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from conftest import Server
from trainjobs.sdk import Session

# Prints its parameters and a few lines, optionally sleeps (so a run can be stopped
# while it goes on), and leaves a file in its output folder.
TRAIN = """
import argparse, os, time
p = argparse.ArgumentParser()
p.add_argument("--data_url", default=""); p.add_argument("--train_url")
p.add_argument("--lr", default="none"); p.add_argument("--sleep", type=float, default=0)
a, _ = p.parse_known_args()
print("lr", a.lr, flush=True)
for i in range(3):
    print("line", i, flush=True)
if a.sleep:
    print("sleeping", flush=True)
    time.sleep(a.sleep)
with open(os.path.join(a.train_url, "result.txt"), "w") as f:
    f.write(a.lr)
"""

ENV_VARS = ("TRAINJOBS_ENDPOINT", "TRAINJOBS_TOKEN", "TRAINJOBS_PROJECT_ID", "TRAINJOBS_DATA_DIR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No credentials leak in from the environment; no endpoint from an earlier test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    Session.reset_endpoint()
    yield
    Session.reset_endpoint()


@pytest.fixture
def session(server: Server, clean_env: None) -> Iterator[Session]:
    with Session(data_dir=server.data_dir, poll_interval_s=0.1) as s:
        yield s


@pytest.fixture(scope="module")
def code(server: Server) -> tuple[str, str]:
    """(code_dir, boot_file) of the TRAIN script in the store."""
    return server.upload_script(TRAIN)


@pytest.fixture(scope="module")
def data_url(server: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A data folder in the store, for ``inputs``."""
    folder = tmp_path_factory.mktemp("data")
    (folder / "rows.csv").write_text("1,2\n")
    bucket = f"data-{uuid.uuid4().hex[:8]}"
    server.upload(folder, f"/{bucket}/in")
    return f"/{bucket}/in/"
