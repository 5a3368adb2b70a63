"""The shipped example trains a real model through the service and reports real metrics."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, Server, unique_name


def test_digits_example_reports_its_models_metrics(server: Server) -> None:
    server.upload(ROOT / "examples" / "digits", "/examples/digits")
    name = unique_name()
    r = server.client.post(
        f"{server.v1}/training-jobs",
        json={
            "job_name": name,
            "config": {
                "worker_server_num": 1,
                "app_url": "/examples/digits/",
                "boot_file_url": "/examples/digits/train.py",
                "spec_id": 1,
                "parameter": [{"label": "C", "value": 0.5}],
            },
        },
    )
    assert r.status_code == 200, r.text
    job_id, version_id = r.json()["job_id"], r.json()["version_id"]
    version = server.wait_status(job_id, version_id, timeout_s=120)
    assert version["status"] == 10, server.log_text(job_id, version_id)
    metrics = json.loads(version["model_metric_list"])
    assert [m["metric_meta"]["class_id"] for m in metrics["metric"]] == list(range(10))
    total = metrics["total_metric"]["total_metric_values"]
    assert 0.9 < total["accuracy"] <= 1 and 0.9 < total["f1_score"] <= 1
    model = Path(server.obs_dir / version["train_url"].strip("/") / "model.pkl")
    assert model.stat().st_size > 1000


def test_two_worker_example_trains_together(server: Server) -> None:
    server.upload(ROOT / "examples" / "two_workers", "/examples/two_workers")
    r = server.client.post(
        f"{server.v1}/training-jobs",
        json={
            "job_name": unique_name(),
            "config": {
                "worker_server_num": 2,
                "app_url": "/examples/two_workers/",
                "boot_file_url": "/examples/two_workers/allreduce.py",
                "spec_id": 1,
                "parameter": [{"label": "steps", "value": 60}],
            },
        },
    )
    assert r.status_code == 200, r.text
    job_id, version_id = r.json()["job_id"], r.json()["version_id"]
    version = server.wait_status(job_id, version_id, timeout_s=120)
    log = server.log_text(job_id, version_id)
    assert version["status"] == 10, log
    accuracies = {line.split()[-5] for line in log.splitlines() if "test accuracy" in line}
    assert len(accuracies) == 1  # both ranks ended with the same model
    total = json.loads(version["model_metric_list"])["total_metric"]["total_metric_values"]
    assert total["accuracy"] > 0.8
