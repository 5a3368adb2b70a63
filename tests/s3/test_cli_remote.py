"""``trainjobs obs`` on a machine without the server's data dir: through the endpoint."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

from conftest import TRAINJOBS, Server

MIB = 1024 * 1024


def remote_obs(
    server: Server, cwd: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    env.update(
        TRAINJOBS_ENDPOINT=server.base,
        TRAINJOBS_TOKEN=server.token,
        TRAINJOBS_PROJECT_ID=server.project_id,
        **(extra or {}),
    )
    return subprocess.run(
        [*TRAINJOBS, "obs", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_with_a_token_only_copies_lists_cats_and_removes_through_the_endpoint(
    server: Server, tmp_path: Path
) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    (tmp_path / "code" / "pkg").mkdir(parents=True)
    (tmp_path / "code" / "train.py").write_text("print('hi')\n")
    (tmp_path / "code" / "pkg" / "util.py").write_text("X = 1\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MIB))

    up = remote_obs(server, tmp_path, "cp", "code", f"obs://{bucket}/app")
    assert up.returncode == 0, up.stderr
    assert (server.obs_dir / bucket / "app" / "pkg" / "util.py").read_text() == "X = 1\n"
    # A large transfer on a terminal shows a progress bar.
    shown = remote_obs(
        server, tmp_path, "cp", "big.bin", f"obs://{bucket}/big.bin",
        extra={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "MB" in shown.stderr, shown.stderr
    assert (server.obs_dir / bucket / "big.bin").read_bytes() == big.read_bytes()

    listing = remote_obs(server, tmp_path, "ls", f"obs://{bucket}/app")
    assert listing.returncode == 0, listing.stderr
    assert f"/{bucket}/app/train.py" in listing.stdout and f"/{bucket}/app/pkg/" in listing.stdout
    assert bucket in remote_obs(server, tmp_path, "ls").stdout
    cat = remote_obs(server, tmp_path, "cat", f"obs://{bucket}/app/train.py")
    assert cat.stdout == "print('hi')\n"
    down = remote_obs(server, tmp_path, "cp", f"obs://{bucket}/app", "back")
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "back" / "pkg" / "util.py").read_text() == "X = 1\n"
    gone = remote_obs(server, tmp_path, "rm", f"obs://{bucket}/app/pkg/util.py")
    assert gone.returncode == 0, gone.stderr
    assert not (server.obs_dir / bucket / "app" / "pkg" / "util.py").exists()
    assert not (tmp_path / "trainjobs-data").exists()


def test_cli_with_an_access_key_and_the_endpoints_url(
    server: Server, user: dict[str, Any], tmp_path: Path
) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    (tmp_path / "f.txt").write_text("by key")
    keys = {
        "TRAINJOBS_ACCESS_KEY_ID": user["access_key"],
        "TRAINJOBS_SECRET_ACCESS_KEY": user["secret_key"],
        "TRAINJOBS_OBJECT_ENDPOINT": server.obs_endpoint,
    }
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    done = subprocess.run(
        [*TRAINJOBS, "obs", "cp", "f.txt", f"obs://{bucket}/f.txt"],
        cwd=tmp_path,
        env={**env_free, **keys},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (server.obs_dir / bucket / "f.txt").read_text() == "by key"
