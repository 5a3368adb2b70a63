"""``trainjobs obs cp|ls|rm``: moving code and data in and out of the store."""

from __future__ import annotations

import uuid
from pathlib import Path

from cli.conftest import Cli
from conftest import Server


def test_cp_ls_rm_round_trip(cli: Cli, server: Server, tmp_path: Path) -> None:
    src = tmp_path / "code"
    (src / "pkg").mkdir(parents=True)
    (src / "train.py").write_text("print('hi')\n")
    (src / "pkg" / "util.py").write_text("X = 1\n")
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    assert "copied 2 file(s)" in cli("obs", "cp", str(src), f"obs://{bucket}/code").stdout
    listing = cli("obs", "ls", f"obs://{bucket}/code").stdout
    assert f"/{bucket}/code/train.py" in listing and f"/{bucket}/code/pkg/" in listing
    assert f"/{bucket}" in cli("obs", "ls").stdout
    back = tmp_path / "back"
    cli("obs", "cp", f"obs://{bucket}/code", str(back))
    assert (back / "pkg" / "util.py").read_text() == "X = 1\n"
    cli("obs", "cp", f"obs://{bucket}/code/train.py", f"obs://{bucket}/copy/train.py")
    assert (server.obs_dir / bucket / "copy" / "train.py").exists()
    assert "removed" in cli("obs", "rm", f"obs://{bucket}/code").stdout
    missing = cli("obs", "ls", f"obs://{bucket}/code", code=1)
    assert "does not exist" in missing.stderr
    assert "does not exist" in cli("obs", "rm", f"obs://{bucket}/code", code=1).stderr
    assert "one side must be" in cli("obs", "cp", str(src), str(tmp_path / "x"), code=2).stderr
