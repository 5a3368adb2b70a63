"""Fixtures for the CLI tests: the real ``trainjobs`` app, invoked in-process against the
shared real server, finding it the way a user's shell would (TRAINJOBS_DATA_DIR)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from conftest import Server
from trainjobs.cli import output
from trainjobs.cli.main import app

TRAIN = """
import argparse, os, time
p = argparse.ArgumentParser()
p.add_argument("--data_url", default=""); p.add_argument("--train_url")
p.add_argument("--lr", default="none"); p.add_argument("--epochs", default="1")
p.add_argument("--sleep", type=float, default=0)
a, _ = p.parse_known_args()
print("lr", a.lr, "epochs", a.epochs, flush=True)
for i in range(3):
    print("line", i, flush=True)
    time.sleep(a.sleep / 3)
with open(os.path.join(a.train_url, "model_metrics.json"), "w") as f:
    f.write('{"metric": [], "total_metric": {"total_metric_values": {"accuracy": %s}}}'
            % (0.5 if a.lr == "none" else float(a.lr)))
"""
ENV_VARS = ("TRAINJOBS_ENDPOINT", "TRAINJOBS_TOKEN", "TRAINJOBS_PROJECT_ID", "TRAINJOBS_DATA_DIR")


@dataclass
class Cli:
    """Runs ``trainjobs ARGS`` and checks it never shows a traceback."""

    env: dict[str, str | None]
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(
        self, *args: str, code: int = 0, env: dict[str, str | None] | None = None
    ) -> Result:
        result = self.runner.invoke(app, list(args), env={**self.env, **(env or {})})
        shown = result.output
        assert "Traceback" not in shown, shown
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"trainjobs {' '.join(args)} raised {result.exception!r}")
        assert result.exit_code == code, (
            f"trainjobs {' '.join(args)} -> {result.exit_code}:\n{shown}"
        )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


COLUMNS = 80  # what the CLI must stay readable in: a default terminal


@pytest.fixture(autouse=True)
def terminal_of_80_columns() -> Iterator[None]:
    saved = output.console.width, output.err.width
    output.console.width = output.err.width = COLUMNS
    yield
    output.console.width, output.err.width = saved


@pytest.fixture
def cli(server: Server) -> Cli:
    env: dict[str, str | None] = {name: None for name in ENV_VARS}
    env["TRAINJOBS_DATA_DIR"] = str(server.data_dir)
    return Cli(env)


@pytest.fixture(scope="module")
def code(server: Server) -> tuple[str, str]:
    """(code_dir, boot_file_url) of the TRAIN script in the store."""
    return server.upload_script(TRAIN)
