"""The Ray executor's handle against a real Ray cluster: placement, waiting, stop,
measurement and adoption, without the service around it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from raytest import ADDRESS, actor_exists, group_state, requires_ray, wait_until

from trainjobs.executors.base import (
    RunSpec,
    SamplesRemotely,
    WaitsForPlacement,
    WorkerResources,
    WorkerSpec,
)
from trainjobs.executors.ray import RayExecutor, RayRun

ray = pytest.importorskip("ray")

pytestmark = requires_ray
GIB = 1024**3

SCRIPT = """
import os, sys, time
print("args", sys.argv[1:], flush=True)
print("env", {k: os.environ.get(k) for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "OMP_NUM_THREADS")}, flush=True)
mode, seconds = sys.argv[1], float(sys.argv[2])
held = bytearray(200 * 1024 * 1024) if mode == "busy" else b""
end = time.monotonic() + seconds
while time.monotonic() < end:
    if mode != "busy":
        time.sleep(0.05)
sys.exit(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
"""


@pytest.fixture(scope="module")
def executor() -> Iterator[RayExecutor]:
    yield RayExecutor(ADDRESS, shared_storage=True)
    ray.shutdown()


def make_spec(
    root: Path, workers: int, *args: str, cores: int = 1, memory_gib: float = 0.5
) -> RunSpec:
    code = root / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(SCRIPT)
    return RunSpec(
        run_id=f"t{time.monotonic_ns()}",
        workers=[
            WorkerSpec(
                argv=[sys.executable, str(code / "train.py"), *args],
                cwd=code,
                log_path=root / "logs" / f"worker.{rank}",
                env={"RANK": str(rank), "WORLD_SIZE": str(workers), "MASTER_ADDR": "127.0.0.1"},
            )
            for rank in range(workers)
        ],
        state_dir=root / "workers",
        resources=WorkerResources(cores=cores, memory_gib=memory_gib),
    )


def names(spec: RunSpec) -> tuple[str, list[str]]:
    raw = json.loads((spec.state_dir / "ray.json").read_text())
    return raw["group"], raw["actors"]


def assert_released(spec: RunSpec) -> None:
    group, actors = names(spec)
    wait_until(lambda: not any(actor_exists(a) for a in actors), 30, "the actors to go")
    wait_until(lambda: group_state(group) in ("REMOVED", "GONE"), 30, "the group to go")


def test_each_worker_gets_a_bundle_sized_from_the_spec(
    executor: RayExecutor, tmp_path: Path
) -> None:
    spec = make_spec(tmp_path, 2, "idle", "3", memory_gib=0.5)
    handle = executor.start(spec)
    assert isinstance(handle, WaitsForPlacement) and isinstance(handle, SamplesRemotely)
    assert handle.placed(timeout=90)
    group, actors = names(spec)
    table = ray.util.placement_group_table(ray.util.get_placement_group(group))
    assert table["strategy"] == "SPREAD"
    assert table["bundles"] == {
        0: {"CPU": 1.0, "memory": 0.5 * GIB},
        1: {"CPU": 1.0, "memory": 0.5 * GIB},
    }
    # the cluster has a node of one CPU each: SPREAD puts one worker on each
    assert len(set(table["bundles_to_node_id"].values())) == 2
    assert all(actor_exists(a) for a in actors)
    outcome = handle.wait(timeout=60)
    assert outcome is not None and outcome.succeeded, outcome
    logs = [(tmp_path / "logs" / f"worker.{r}").read_text() for r in range(2)]
    for rank, text in enumerate(logs):
        assert f"Ray placed worker {rank} on node 127.0.0.1" in text
        assert "'OMP_NUM_THREADS': '1'" in text  # Ray sized the worker's threads to its bundle
        assert f"'RANK': '{rank}'" in text
    assert_released(spec)


def test_a_run_ray_cannot_place_waits_and_a_stop_ends_it_unplaced(
    executor: RayExecutor, tmp_path: Path
) -> None:
    spec = make_spec(tmp_path, 1, "idle", "1", cores=2)  # no node has two CPUs
    handle = executor.start(spec)
    assert not handle.placed(timeout=3)
    assert handle.wait(timeout=0.5) is None
    wait_until(lambda: "waiting for Ray to place" in (tmp_path / "logs" / "worker.0").read_text())
    group, _ = names(spec)
    assert group_state(group) == "PENDING"
    handle.stop(grace_s=1)
    outcome = handle.wait(timeout=30)
    assert outcome is not None and outcome.stopped and list(outcome.exits) == []
    assert_released(spec)


def test_a_queued_run_starts_when_ray_frees_its_resources(
    executor: RayExecutor, tmp_path: Path
) -> None:
    first = make_spec(tmp_path / "a", 2, "idle", "4")  # holds both CPUs of the cluster
    second = make_spec(tmp_path / "b", 1, "idle", "0")
    holding = executor.start(first)
    assert holding.placed(timeout=90)
    queued = executor.start(second)
    assert not queued.placed(timeout=1)
    outcome = holding.wait(timeout=60)
    assert outcome is not None and outcome.succeeded
    assert queued.placed(timeout=60)
    outcome = queued.wait(timeout=60)
    assert outcome is not None and outcome.succeeded


def test_a_failing_worker_ends_its_peers_and_reports_its_code(
    executor: RayExecutor, tmp_path: Path
) -> None:
    spec = make_spec(tmp_path, 2, "idle", "0.5", "3")
    sleeper = replace(spec.workers[1], argv=[*spec.workers[1].argv[:2], "idle", "60", "0"])
    spec = replace(spec, workers=[spec.workers[0], sleeper])
    handle = executor.start(spec)
    started = time.monotonic()
    outcome = handle.wait(timeout=90)
    assert outcome is not None
    assert time.monotonic() - started < 60  # the sleeper was ended, not waited for
    assert outcome.exits[0].returncode == 3
    assert outcome.exits[1].returncode != 0
    assert not outcome.succeeded and "worker 0 exited with code 3" in outcome.reason
    assert_released(spec)


def test_stop_ends_the_worker_trees_and_gives_the_bundles_back(
    executor: RayExecutor, tmp_path: Path
) -> None:
    spec = make_spec(tmp_path, 2, "idle", "120")
    handle = executor.start(spec)
    assert handle.placed(timeout=90)
    wait_until(lambda: all((spec.state_dir / f"{r}.pid").exists() for r in range(2)))
    pids = [json.loads((spec.state_dir / f"{r}.pid").read_text())["pid"] for r in range(2)]
    wait_until(lambda: all(psutil.Process(p).children() for p in pids), what="the workers")
    trees = [p.pid for pid in pids for p in psutil.Process(pid).children(recursive=True)]
    handle.stop(grace_s=2)
    outcome = handle.wait(timeout=30)
    assert outcome is not None and outcome.stopped
    assert [e.returncode for e in outcome.exits] == [-15, -15]
    for pid in pids + trees:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert_released(spec)


def test_sample_measures_each_worker_on_its_node(executor: RayExecutor, tmp_path: Path) -> None:
    spec = make_spec(tmp_path, 2, "busy", "6")
    handle = executor.start(spec)
    assert handle.placed(timeout=90)
    here = ray.get_runtime_context().get_node_id()
    # the local pids are only those of the worker on this node (the head)
    assert len(handle.processes) == 1, here
    samples = []
    for _ in range(4):
        time.sleep(0.8)
        sample = handle.sample()
        if sample is not None:
            samples.append(sample)
    assert samples
    last = samples[-1]
    # two workers, each holding 200 MiB and spinning a core
    assert last["memUsage"] > 0.35, samples
    assert max(s["cpuUsage"] for s in samples) > 80, samples
    outcome = handle.wait(timeout=60)
    assert outcome is not None and outcome.succeeded


ORPHAN_DRIVER = """
import os, sys, time
from pathlib import Path
from trainjobs.executors.base import RunSpec, WorkerResources, WorkerSpec
from trainjobs.executors.ray import RayExecutor
root = Path(sys.argv[2])
executor = RayExecutor(sys.argv[1], shared_storage=True)
spec = RunSpec(
    run_id="orphan",
    workers=[WorkerSpec([sys.executable, "-c", "import time, sys; time.sleep(float(sys.argv[1])); print('done', flush=True)", "4"], root, root / "log")],
    state_dir=root / "workers",
    resources=WorkerResources(1, 0.25, 0),
)
handle = executor.start(spec)
assert handle.placed(90)
print("launched", flush=True)
os._exit(0)  # a crash: no stop, no cleanup, the driver just goes
"""


def test_a_new_driver_adopts_the_detached_actors_of_a_dead_one(
    executor: RayExecutor, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ORPHAN_DRIVER), ADDRESS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "launched" in done.stdout, done.stderr[-3000:]
    raw = json.loads((tmp_path / "workers" / "ray.json").read_text())
    assert all(actor_exists(a) for a in raw["actors"])  # the actors outlived their driver
    adopted = executor.adopt(tmp_path / "workers", 1)
    assert isinstance(adopted, RayRun) and adopted.placed(timeout=1)
    outcome = adopted.wait(timeout=60)
    assert outcome is not None and outcome.succeeded, outcome
    assert "done" in (tmp_path / "log").read_text()
    wait_until(lambda: not actor_exists(raw["actors"][0]), 30, "the adopted actor to go")
    # nothing of it is left to adopt a second time, but its outcome is on record
    again = executor.adopt(tmp_path / "workers", 1)
    assert again is not None
    outcome = again.wait(timeout=10)
    assert outcome is not None and outcome.succeeded


def test_adopt_finds_nothing_where_no_ray_run_was(executor: RayExecutor, tmp_path: Path) -> None:
    assert executor.adopt(tmp_path / "workers", 1) is None
