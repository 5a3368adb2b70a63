"""Fifty clients at once: creates, derived versions, stops and deletes against one server."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from conftest import Server

CLIENTS = 50
SCRIPT = "import time\ntime.sleep(0.3)\n"


# 150 runs on a 2-core machine: minutes when the machine is busy, not the usual 120 s.
@pytest.mark.timeout(600)
def test_fifty_clients_lose_nothing_and_duplicate_nothing(fresh_server: Server) -> None:
    server = fresh_server
    app_url, boot = server.upload_script(SCRIPT)
    statuses: Counter[int] = Counter()
    kept: dict[int, list[dict[str, Any]]] = {}
    deleted: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        with httpx.Client(
            base_url=server.base, headers={"X-Auth-Token": server.token}, timeout=120
        ) as c:

            def call(method: str, url: str, **kw: Any) -> httpx.Response:
                r = c.request(method, url, **kw)
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code >= 500 or (
                        r.status_code >= 400 and "error_code" not in r.json()
                    ):
                        errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
                return r

            start.wait()
            name = f"storm-{i}-{uuid.uuid4().hex[:6]}"
            body = {"job_name": name, "config": {"worker_server_num": 1, "app_url": app_url,
                                                 "boot_file_url": boot, "spec_id": 1}}  # fmt: skip
            job = call("POST", f"{server.v1}/training-jobs", json=body).json()
            job_id = job["job_id"]
            versions = [job]
            for _ in range(2):
                r = call(
                    "POST", f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}}
                )
                versions.append(r.json())
            stop = call(
                "POST",
                f"{server.v1}/training-jobs/{job_id}/versions/{versions[1]['version_id']}/stop",
            )
            assert stop.status_code in (200, 409)  # it may have finished already
            if i % 5 == 0:
                call("DELETE", f"{server.v1}/training-jobs/{job_id}")
                with lock:
                    deleted.append(job_id)
            else:
                with lock:
                    kept[job_id] = versions

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert errors == []
    assert statuses[500] == 0

    listed = server.client.get(f"{server.v1}/training-jobs", params={"per_page": 1000}).json()
    assert listed["job_total_count"] == len(kept) == CLIENTS - CLIENTS // 5
    assert {j["job_id"] for j in listed["jobs"]} == set(kept)
    all_version_ids: list[int] = []
    for job_id, versions in kept.items():
        body = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
        assert body["version_count"] == 3
        assert sorted(v["version_name"] for v in body["versions"]) == ["V0001", "V0002", "V0003"]
        assert {v["version_id"] for v in body["versions"]} == {v["version_id"] for v in versions}
        all_version_ids += [v["version_id"] for v in body["versions"]]
        for v in body["versions"]:
            server.wait_status(job_id, v["version_id"], timeout_s=180)
    assert len(all_version_ids) == len(set(all_version_ids))
    for job_id in deleted:
        assert server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").status_code == 404
