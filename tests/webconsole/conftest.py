"""Console helpers: a signed-in HTTP client, another project, and a finished job to look at."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import Server, unique_name
from trainjobs.domain.clock import now_ms
from trainjobs.domain.hashing import hash_token
from trainjobs.store.database import Database
from trainjobs.store.identity import insert_project, insert_token

# A training script that prints numbered lines, reports model metrics and keeps
# the CPU busy long enough to be sampled.
TRAIN = """
import argparse, json, os, time
p = argparse.ArgumentParser()
p.add_argument("--data_url", default=""); p.add_argument("--train_url")
p.add_argument("--lr", default="0.1"); p.add_argument("--seconds", type=float, default=0)
a, _ = p.parse_known_args()
print("training with lr", a.lr, flush=True)
end = time.time() + a.seconds
i = 0
while True:
    i += 1
    busy = time.time() + 0.05
    while time.time() < busy:
        pass
    print("step", i, "loss", round(1 / i, 4), flush=True)
    if time.time() >= end:
        break
    time.sleep(0.2)
os.makedirs(a.train_url, exist_ok=True)
acc = min(0.99, 0.5 + float(a.lr))
with open(os.path.join(a.train_url, "model_metrics.json"), "w") as f:
    json.dump({"metric": [{"metric_values": {"recall": acc, "precision": acc, "accuracy": acc},
                            "metric_meta": {"class_name": "cat", "class_id": 0}},
                           {"metric_values": {"recall": 0.5, "precision": 0.6, "accuracy": 0.55},
                            "metric_meta": {"class_name": "dog", "class_id": 1}}],
               "total_metric": {"total_metric_values": {"accuracy": acc, "f1_score": acc}}}, f)
print("done", flush=True)
"""


def make_job(server: Server, lr: str = "0.1", seconds: float = 0) -> dict[str, Any]:
    """A job whose first version runs TRAIN with these parameters."""
    return server.create_job(
        TRAIN,
        name=unique_name(),
        parameter=[{"label": "lr", "value": lr}, {"label": "seconds", "value": str(seconds)}],
    )


def add_project_token(server: Server, *, expires_at: int = 0, project_id: str = "") -> str:
    """A token of a new project (or of ``project_id``), written into the server's database."""
    token = secrets.token_urlsafe(32)
    db = Database(server.database_url)
    try:
        with db.write() as conn:
            if not project_id:
                project_id = secrets.token_hex(16)
                insert_project(conn, project_id, f"other-{project_id[:8]}", 5, now_ms())
            insert_token(conn, hash_token(token), project_id, now_ms(), expires_at=expires_at)
    finally:
        db.dispose()
    return token


def sign_in_nonce(client: httpx.Client) -> str:
    page = client.get("/console/sign-in")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the sign-in form carries its CSRF token"
    return found.group(1)


def signed_in(server: Server, **fields: str) -> httpx.Client:
    """A client with a console session: ``token=...`` or ``user=``/``password=``/``domain=``."""
    client = httpx.Client(base_url=server.base, timeout=30)
    nonce = sign_in_nonce(client)
    done = client.post("/console/sign-in", data={"csrf": nonce, "next": "", **fields})
    assert done.status_code == 303, done.text
    assert "tj_session" in client.cookies
    return client


def csrf_of_page(client: httpx.Client, path: str = "/console/jobs") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'data-csrf="([^"]+)"', page.text)
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Each console module's own service: its pages list everything of the project, so
    what other modules (console ones included) leave in a shared server must not show
    in them."""
    srv = Server(tmp_path_factory.mktemp("console") / "data").start()
    yield srv
    srv.stop()
    srv.drop()


# -- shared by test_console_server.py and test_console_pages.py ----------------------


@pytest.fixture(scope="module")
def target(server: Server) -> dict[str, Any]:
    """A finished job, a configuration and a (stopped) visualization job of the project."""
    created = make_job(server)
    version = server.wait_status(created["job_id"], created["version_id"])
    assert version["status"] == 10, version
    log = f"{created['job_name']}-V0001.0"
    config = f"cfg-{created['job_name']}"
    made = server.client.post(
        f"{server.v1}/training-job-configs",
        json={"config_name": config, "app_url": version["app_url"],
              "boot_file_url": version["boot_file_url"], "spec_id": 1, "worker_server_num": 1},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    viz = server.client.post(
        f"{server.v1}/visualization-jobs",
        json={"job_name": f"tb{created['job_id']}", "train_url": version["train_url"]},
    )
    assert viz.status_code == 200, viz.text
    viz_id = viz.json()["job_id"]
    server.client.post(f"{server.v1}/visualization-jobs/{viz_id}/stop")
    return {**created, "log": log, "config": config, "viz": viz_id}



@pytest.fixture
def anonymous(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def member(server: Server) -> Iterator[httpx.Client]:
    client = signed_in(server, token=server.token)
    yield client
    client.close()
