"""TRAINJOBS_REQUIRE_ALL=1 turns a run whose tests were all skipped into a failure."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

# Without a Ray cluster every test of this module is skipped.
ALL_SKIPPED = "tests/ray/test_ray_executor.py"


def _pytest(require_all: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINJOBS_")}
    if require_all is not None:
        env["TRAINJOBS_REQUIRE_ALL"] = require_all
    return subprocess.run(
        [sys.executable, "-m", "pytest", ALL_SKIPPED, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_all_skipped_fails_when_everything_is_required() -> None:
    required = _pytest("1")
    assert required.returncode == 1, required.stdout
    assert "all" in required.stdout and "were skipped" in required.stdout


def test_all_skipped_passes_otherwise() -> None:
    assert _pytest(None).returncode == 0
    assert _pytest("0").returncode == 0
