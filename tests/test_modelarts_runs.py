"""ModelArts training code runs unchanged: the launcher's environment, the code
layout, metric.json, and the examples written as ModelArts' tutorials write them."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, Server, unique_name

PROBE = r"""
import json, os, sys
from codes.model import net          # the code folder's parent is on PYTHONPATH
import moxing as mox                 # and so is moxing, inside runs only
from moxing.framework import file as mox_file

rank = os.environ["DLS_TASK_INDEX"]
train_url = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--train_url=")][0]
seen = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "file": __file__,
    "net": net.NAME,
    "same_file_api": mox_file.copy_parallel is mox.file.copy_parallel,
    "env": {k: v for k, v in os.environ.items()
            if k.startswith(("DLS_", "BATCH_CUSTOM", "MA_", "S3_", "VC_"))
            or k in ("PYTHONUNBUFFERED", "PYTHONPATH", "RANK", "WORLD_SIZE")},
}
mox.file.write(os.path.join(train_url, "seen-%s.json" % rank), json.dumps(seen))
"""


def _upload_codes(server: Server, tmp_path: Path, boot: str) -> tuple[str, str]:
    """A code folder named ``codes`` with a package inside, as ModelArts users lay them out."""
    folder = tmp_path / uuid.uuid4().hex / "codes"
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "__init__.py").write_text("")
    (folder / "model" / "net.py").write_text("NAME = 'the net'\n")
    (folder / "train.py").write_text(boot)
    bucket = f"code-{uuid.uuid4().hex[:8]}"
    server.upload(folder, f"/{bucket}/codes")
    return f"/{bucket}/codes/", f"/{bucket}/codes/train.py"


def _create(server: Server, config: dict[str, Any]) -> tuple[int, int]:
    r = server.client.post(
        f"{server.v1}/training-jobs",
        json={"job_name": unique_name(), "config": {"spec_id": 1, **config}},
    )
    assert r.status_code == 200, r.text
    return r.json()["job_id"], r.json()["version_id"]


def _output(server: Server, version: dict[str, Any]) -> Path:
    return server.obs_dir / version["train_url"].strip("/")


def test_a_run_finds_the_modelarts_launchers_environment(server: Server, tmp_path: Path) -> None:
    app_url, boot = _upload_codes(server, tmp_path, PROBE)
    job_id, version_id = _create(
        server,
        {
            "worker_server_num": 2,
            "app_url": app_url,
            "boot_file_url": boot,
            "parameter": [{"label": "lr", "value": "0.1"}, {"label": "flag", "value": ""}],
        },
    )
    version = server.wait_status(job_id, version_id, timeout_s=90)
    assert version["status"] == 10, server.log_text(job_id, version_id)
    out = _output(server, version)
    seen = [json.loads((out / f"seen-{rank}.json").read_text()) for rank in (0, 1)]
    for rank, s in enumerate(seen):
        env = s["env"]
        assert s["net"] == "the net" and s["same_file_api"] is True
        assert Path(s["cwd"]).name == "user-job-dir"
        assert Path(s["file"]).parent == Path(s["cwd"]) / "codes"
        assert env["PYTHONPATH"].split(os.pathsep)[0] == s["cwd"] == env["MA_JOB_DIR"]
        assert s["argv"] == ["--data_url=", f"--train_url={s['argv'][1].split('=', 1)[1]}",
                             "--lr=0.1", "--flag="]  # fmt: skip
        assert env["DLS_TASK_INDEX"] == env["MA_TASK_INDEX"] == env["RANK"] == str(rank)
        assert env["DLS_TASK_NUMBER"] == env["MA_NUM_HOSTS"] == "2"
        assert env["DLS_APP_URL"] == "obs:/" + app_url
        assert env["DLS_TRAIN_URL"] == "obs:/" + version["train_url"]
        assert env["DLS_DATA_URL"] == ""
        assert env["MA_NUM_GPUS"] == "0" and env["MA_CURRENT_IP"]
        assert env["MA_LOG_DIR"] and env["PYTHONUNBUFFERED"] == "1"
        hosts = [env["BATCH_CUSTOM0_HOSTS"], env["BATCH_CUSTOM1_HOSTS"]]
        assert all(h.rsplit(":", 1)[1].isdigit() for h in hosts) and hosts[0] != hosts[1]
    assert seen[0]["env"]["BATCH_CUSTOM0_HOSTS"] == seen[1]["env"]["BATCH_CUSTOM0_HOSTS"]


def test_data_url_is_passed_and_named_when_there_is_data(server: Server, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.txt").write_text("x")
    bucket = f"data-{uuid.uuid4().hex[:8]}"
    server.upload(data, f"/{bucket}/in")
    app_url, boot = _upload_codes(server, tmp_path, PROBE)
    job_id, version_id = _create(
        server,
        {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
         "data_url": f"/{bucket}/in/"},
    )  # fmt: skip
    version = server.wait_status(job_id, version_id, timeout_s=60)
    assert version["status"] == 10, server.log_text(job_id, version_id)
    seen = json.loads((_output(server, version) / "seen-0.json").read_text())
    local_data = seen["argv"][0].split("=", 1)[1]
    assert Path(local_data).name == "data" and Path(local_data).is_absolute()
    assert seen["env"]["DLS_DATA_URL"] == f"obs://{bucket}/in/"


METRIC_SCRIPT = """
import json, os, sys
train_url = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--train_url=")][0]
with open(os.path.join(train_url, "metric.json"), "w") as f:
    json.dump({"total_metric": {"total_metric_values": {"accuracy": 0.9712, "f1": 0.5,
               "loss": 7}}}, f)
"""


def test_metric_json_becomes_the_model_metric_list(server: Server) -> None:
    created = server.create_job(METRIC_SCRIPT)
    job_id, version_id = created["job_id"], created["version_id"]
    version = server.wait_status(job_id, version_id, timeout_s=60)
    assert version["status"] == 10, server.log_text(job_id, version_id)
    metrics = json.loads(version["model_metric_list"])
    assert metrics["total_metric"]["total_metric_values"] == {"accuracy": 0.9712, "f1_score": 0.5}
    assert metrics["metric"] == []
    listed = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions").json()
    shown = json.loads(listed["versions"][0]["model_metric_list"])
    assert shown["total_metric"]["total_metric_values"]["accuracy"] == 0.9712


def test_a_broken_metric_json_is_named_in_the_log(server: Server) -> None:
    created = server.create_job(
        "import sys\n"
        "out = [a.split('=', 1)[1] for a in sys.argv if a.startswith('--train_url=')][0]\n"
        "open(out + '/metric.json', 'w').write('{\"total_metric\": {\"total_metric_values\": "
        '{"accuracy": "high"}}}\')\n'
    )
    version = server.wait_status(created["job_id"], created["version_id"], timeout_s=60)
    assert version["status"] == 10
    assert json.loads(version["model_metric_list"])["total_metric"]["total_metric_values"] == {}
    log = server.log_text(created["job_id"], created["version_id"])
    assert "metric.json was not used" in log and "must be a number" in log


# -- the examples, unchanged -------------------------------------------------------


def test_two_worker_example_finds_its_peers(server: Server) -> None:
    server.upload(ROOT / "examples" / "modelarts_peers", "/examples/modelarts_peers")
    job_id, version_id = _create(
        server,
        {
            "worker_server_num": 2,
            "app_url": "/examples/modelarts_peers/",
            "boot_file_url": "/examples/modelarts_peers/peers.py",
            "parameter": [{"label": "n", "value": "1000"}],
        },
    )
    version = server.wait_status(job_id, version_id, timeout_s=90)
    log = server.log_text(job_id, version_id)
    assert version["status"] == 10, log
    assert log.count("total 500500") == 2  # each worker ends with the sum of 1..1000
    total = json.loads((_output(server, version) / "total.json").read_text())
    assert total == {"total": 500500, "workers": 2}


def _private_cache(server: Server) -> str:
    """Why runs lack a private /cache, or "" when they have one.

    A probe run writes a file into /cache; the host must not see it."""
    marker = f"probe-{uuid.uuid4().hex}"
    created = server.create_job(
        "import os\n"
        "if os.access('/cache', os.W_OK):\n"
        f"    open('/cache/{marker}', 'w').write('x')\n"
        "    print('cache writable')\n"
    )
    version = server.wait_status(created["job_id"], created["version_id"], timeout_s=60)
    if version["status"] != 10:
        return "the /cache probe run failed"
    host_copy = Path("/cache") / marker
    if host_copy.exists():
        host_copy.unlink()
        return "runs write the host's own /cache: the server runs them unsandboxed"
    if "cache writable" not in server.log_text(created["job_id"], created["version_id"]):
        return "runs have no writable /cache (the sandbox gives each run its own)"
    return ""


def test_modelarts_style_example_trains_through_moxing_and_cache(
    server: Server, tmp_path: Path
) -> None:
    reason = _private_cache(server)
    if reason:
        pytest.skip(f"the ModelArts example writes /cache: {reason}")
    from sklearn.datasets import load_digits

    digits = load_digits()
    data = tmp_path / "digits"
    data.mkdir()
    rows = [list(map(int, x)) + [int(y)] for x, y in zip(digits.data, digits.target, strict=True)]
    (data / "digits.csv").write_text("\n".join(",".join(map(str, r)) for r in rows))
    server.upload(data, "/examples/modelarts_data")
    server.upload(ROOT / "examples" / "modelarts_style", "/examples/modelarts_style")
    job_id, version_id = _create(
        server,
        {
            "worker_server_num": 1,
            "app_url": "/examples/modelarts_style/",
            "boot_file_url": "/examples/modelarts_style/train.py",
            "data_url": "/examples/modelarts_data/",
            "parameter": [{"label": "C", "value": "0.5"}],
        },
    )
    version = server.wait_status(job_id, version_id, timeout_s=120)
    log = server.log_text(job_id, version_id)
    assert version["status"] == 10, log
    assert "data copied to /cache/data: ['digits.csv']" in log
    values = json.loads(version["model_metric_list"])["total_metric"]["total_metric_values"]
    assert set(values) == {"accuracy", "precision", "recall", "f1_score"}
    assert 0.9 < values["accuracy"] <= 1
    out = _output(server, version)
    assert (out / "model.pkl").stat().st_size > 1000 and (out / "metric.json").exists()


# -- moxing reaching the store from inside a run -------------------------------------

STORE_SCRIPT = """
import os, tempfile
import moxing as mox
src = os.environ["DLS_DATA_URL"]
files = mox.file.list_directory(src, recursive=True)
local = tempfile.mkdtemp()
mox.file.copy_parallel(src, local)
mox.file.copy_parallel(local, os.environ["DLS_TRAIN_URL"].rstrip("/") + "/copied")
mox.file.write(os.environ["DLS_TRAIN_URL"].rstrip("/") + "/listed.txt", ",".join(files))
"""


def test_moxing_reaches_the_projects_store_from_a_run(server: Server, tmp_path: Path) -> None:
    creds = json.loads((server.data_dir / "credentials.json").read_text())
    if not creds.get("obs_endpoint"):
        pytest.skip("the server advertises no obs_endpoint (its S3-compatible object endpoint)")
    data = tmp_path / "d"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("a")
    (data / "sub" / "b.bin").write_bytes(b"\x00b")
    bucket = f"mox-{uuid.uuid4().hex[:8]}"
    server.upload(data, f"/{bucket}/in")
    app_url, boot = _upload_codes(server, tmp_path, STORE_SCRIPT)
    job_id, version_id = _create(
        server,
        {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
         "data_url": f"/{bucket}/in/", "train_url": f"/{bucket}/out/"},
    )  # fmt: skip
    version = server.wait_status(job_id, version_id, timeout_s=90)
    assert version["status"] == 10, server.log_text(job_id, version_id)
    out = server.obs_dir / bucket / "out"
    assert (out / "listed.txt").read_text() == "a.txt,sub,sub/b.bin"
    assert (out / "copied" / "sub" / "b.bin").read_bytes() == b"\x00b"
