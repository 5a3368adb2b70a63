"""A legacy ModelArts SDK script runs unchanged but for its import lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from conftest import Server
from sdk.conftest import TRAIN

LEGACY = Path(__file__).parent / "legacy" / "train_two_versions.py"
IMPORTS = {
    "from modelarts.estimator import Estimator": "from trainjobs.sdk.estimator import Estimator",
    "from modelarts.session import Session": "from trainjobs.sdk.session import Session",
}


def test_legacy_script_runs_with_only_the_imports_changed(server: Server, tmp_path: Path) -> None:
    original = LEGACY.read_text()
    ported = original
    for old, new in IMPORTS.items():
        assert old in original
        ported = ported.replace(old, new)
    changed = [
        (a, b) for a, b in zip(original.splitlines(), ported.splitlines(), strict=True) if a != b
    ]
    assert [a for a, _ in changed] == list(IMPORTS)  # nothing else differs
    script = tmp_path / "script.py"
    script.write_text(ported)
    (tmp_path / "work" / "src").mkdir(parents=True)
    (tmp_path / "work" / "src" / "train.py").write_text(TRAIN)
    (tmp_path / "work" / "data").mkdir()
    (tmp_path / "work" / "data" / "rows.csv").write_text("1,2\n")
    bucket = f"legacy-{uuid.uuid4().hex[:8]}"

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    env["TRAINJOBS_DATA_DIR"] = str(server.data_dir)  # the only set-up: where the server is
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "work"), bucket],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["first_status"] == 10
    assert result["first_parameter"] == [
        {"label": "lr", "value": "0.01"},
        {"label": "sleep", "value": "0"},
    ]
    assert result["stop"] == {"is_success": True}
    assert result["statuses"] == [12, 10]  # newest first: the stopped one is KILLED
    assert result["job_desc"] == "second version, stopped early"
    assert result["log_files"] == [f"{bucket}-job-V0001.0"]
    assert "COMPLETED in" in done.stdout  # fit(wait=True) showed the run's status

    second = server.version(result["job_id"], result["second_version_id"])
    assert second["pre_version_id"] == result["first_version_id"]
    assert second["parameter"] == [
        {"label": "lr", "value": "0.1"},
        {"label": "sleep", "value": "60"},
    ]
    outputs = server.obs_dir / bucket / "output"
    assert (outputs / "result.txt").read_text() == "0.01"
    assert result["downloaded"] == "0.01"


def test_legacy_script_from_another_machine_goes_through_the_object_endpoint(
    server: Server, tmp_path: Path
) -> None:
    """Only the server's URL, a token and the project id: no data dir here. The code
    goes up through the object endpoint (with a key issued for the token), never into
    a local folder the server does not read."""
    ported = LEGACY.read_text()
    for old, new in IMPORTS.items():
        ported = ported.replace(old, new)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "work" / "src").mkdir(parents=True)
    (elsewhere / "script.py").write_text(ported)
    (elsewhere / "work" / "src" / "train.py").write_text(TRAIN)
    (elsewhere / "work" / "data").mkdir()
    (elsewhere / "work" / "data" / "rows.csv").write_text("1,2\n")
    bucket = f"remote-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    env.update(
        TRAINJOBS_ENDPOINT=server.base,
        TRAINJOBS_TOKEN=server.token,
        TRAINJOBS_PROJECT_ID=server.project_id,
    )
    done = subprocess.run(
        [sys.executable, "script.py", "work", bucket],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["first_status"] == 10
    assert result["statuses"] == [12, 10]
    assert result["downloaded"] == "0.01"
    assert (elsewhere / "work" / "downloaded" / "result.txt").read_text() == "0.01"
    # What went up is in the server's store, and nothing was written beside the script.
    assert (server.obs_dir / bucket / "src" / "train.py").read_text() == TRAIN
    assert (server.obs_dir / bucket / "data" / "rows.csv").read_text() == "1,2\n"
    assert not (elsewhere / "trainjobs-data").exists()
