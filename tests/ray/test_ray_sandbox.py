"""The hostile boot files of ``tests/test_sandbox.py`` again, on the Ray executor:
each worker's actor builds the same sandbox on its node, and every attempt to
reach what is not the run's must be refused there too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from raytest import ray_server, requires_ray

import test_sandbox as local
from conftest import Server

# The suite itself, collected here with this module's fixtures (a Ray server).
from test_sandbox import (  # noqa: F401 - collected by pytest
    test_a_run_sees_only_its_own_processes,
    test_cache_and_tmp_are_writable_and_private_to_each_run,
    test_credentials_database_and_key_file_cannot_be_read,
    test_data_dir_cannot_be_written,
    test_environment_holds_none_of_the_servers_secrets,
    test_object_store_and_run_folders_cannot_be_listed_or_read,
    test_read_only_host_path_volume_appears_at_its_dest_path,
    test_server_and_other_runs_cannot_be_killed,
    test_server_proc_entries_cannot_be_read,
    test_walking_up_from_the_working_folder_finds_nothing_of_the_server,
    volume_dir,
)

pytest.importorskip("ray")
pytestmark = [requires_ray, local.pytestmark]


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory, volume_dir: Path) -> Iterator[Server]:  # noqa: F811
    """A Ray server holding secrets in its environment, as operators give them."""
    root = tmp_path_factory.mktemp("ray-sandboxed")
    env = {
        "AWS_SECRET_ACCESS_KEY": local.SERVER_SECRET,
        "OBS_SECRET_ACCESS_KEY": local.OBS_SECRET,
        "TRAINJOBS_RUN_ENV_PASSTHROUGH": "TJ_OPERATOR_SETTING",
        "TJ_OPERATOR_SETTING": "handed-through",
        "TRAINJOBS_HOST_PATH_ALLOW": str(volume_dir.parent),
    }
    srv = ray_server(root / "data", **env)
    yield srv
    srv.stop()
    srv.drop()


@pytest.fixture
def other_run(sandboxed: Server) -> Iterator[dict[str, Any]]:
    """A version running beside the hostile one; one per test, since the test
    cluster has room for two workers at a time."""
    yield from local.running_beside(sandboxed)
