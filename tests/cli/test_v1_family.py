"""``trainjobs configs``, ``algorithms``, ``jobs/versions create --config`` and ``viz``."""

from __future__ import annotations

import time
import uuid

from cli.conftest import Cli
from conftest import Server
from trainjobs.cli import output


def test_algorithms_list_fits_80_columns(cli: Cli) -> None:
    output.console.width = 80
    shown = cli("algorithms", "list").stdout
    assert "image_classification" in shown and "label_column*" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_configs_round_trip_and_jobs_from_a_config(
    cli: Cli, server: Server, code: tuple[str, str]
) -> None:
    app_url, boot = code
    name = f"cfg-{uuid.uuid4().hex[:8]}"
    cli("configs", "create", name, "--code-dir", app_url, "--boot-file", boot,
        "--param", "lr=0.25", "--desc", "from the cli")  # fmt: skip
    assert name in cli("configs", "list", "--search", name).stdout
    shown = cli.json("configs", "show", name)
    assert shown["app_url"] == app_url and shown["parameter"] == [{"label": "lr", "value": "0.25"}]
    cli("configs", "update", name, "--param", "lr=0.75")
    assert cli.json("configs", "show", name)["parameter"][0]["value"] == "0.75"

    job = cli.json("jobs", "create", f"j-{uuid.uuid4().hex[:8]}", "--config", name)
    done = server.wait_status(job["job_id"], job["version_id"])
    assert done["status"] == 10 and done["parameter"] == [{"label": "lr", "value": "0.75"}]
    version = cli.json("versions", "create", str(job["job_id"]), "--config", name,
                       "--param", "epochs=3", "--replace-params")  # fmt: skip
    second = server.wait_status(job["job_id"], version["version_id"])
    assert second["parameter"] == [{"label": "epochs", "value": "3"}]

    samples = cli("configs", "list", "--sample").stdout
    assert "sample-tabular-classification" in samples
    cli("configs", "delete", name)
    cli("configs", "show", name, code=1)
    cli("configs", "create", "x", "--algorithm", "no-such-algorithm", code=1)


def test_viz_create_show_stop_restart_open_delete(cli: Cli, server: Server) -> None:
    name = f"v{uuid.uuid4().hex[:8]}"
    created = cli.json("viz", "create", name, "--train-url", "/logs/none/", "--hours", "2")
    job_id = str(created["job_id"])
    assert name in cli("viz", "list", "--search", name).stdout
    deadline = time.monotonic() + 120
    while cli.json("viz", "show", job_id)["status"] != 8:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    url = cli("viz", "open", job_id, env={"BROWSER": "true"}).stdout.strip()
    assert url == created["service_url"]
    cli("viz", "stop", job_id)
    assert cli.json("viz", "show", job_id)["status"] == 12
    cli("viz", "stop", job_id, code=1)
    cli("viz", "restart", job_id)
    cli("viz", "delete", job_id)
    cli("viz", "show", job_id, code=1)
