"""Staging a run: its code and data downloaded, their snapshot, the launcher's
environment and the ``RunSpec`` its executor starts."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trainjobs.domain import algorithms, snapshots
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.datasets import DatasetService
from trainjobs.domain.run_records import (
    RunPaths,
    RunVersion,
    float_or_zero,
    int_or_one,
    note,
)
from trainjobs.domain.scheduler import Grant
from trainjobs.domain.volumes import volume_binds
from trainjobs.executors.base import (
    Bind,
    NodeStaging,
    RunSpec,
    Transfer,
    WorkerResources,
    WorkerSpec,
)
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.objectstore.store import ObjectNotFound
from trainjobs.runtime import RUN_PYTHONPATH

NO_CONTAINER_NOTE = (
    "no container runtime is configured: user_command runs on the host, "
    "user_image_url is recorded only"
)


class StagingError(Exception):
    pass


@dataclass(frozen=True)
class RunKey:
    """A run's own key to the object endpoint, for its project."""

    project_id: str
    version_id: int
    access_key: str
    secret: str = field(repr=False)


class RunKeys(Protocol):
    """Temporary access keys of the object endpoint, one per run of a project."""

    def mint(self) -> tuple[str, str]:
        """A new key (access key, secret), valid nowhere until kept."""
        ...

    def keep(self, project_id: str, version_id: int, ak: str, sk: str) -> None: ...

    def revoke(self, version_id: int) -> None:
        """End the key of a version's run; nothing when it holds none."""
        ...


class Stager:
    """Prepares a granted version's folders and the spec of its workers."""

    def __init__(
        self,
        store: ObjectStore,
        catalog: Catalog,
        datasets: DatasetService | None,
        object_endpoint_url: str,
        run_keys: RunKeys | None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.datasets = datasets
        # moxing inside runs reaches the object store here, with a key of the run's own.
        self.object_endpoint_url = object_endpoint_url
        self.run_keys = run_keys

    @staticmethod
    def _download(store: ObjectStore, url: str, target: Path, what: str) -> int:
        try:
            return store.download(parse_obs_path(url), target)
        except (InvalidObsPath, ObjectNotFound) as exc:
            raise StagingError(f"{what} {url}: {exc}") from exc
        except OSError as exc:
            raise StagingError(f"{what} {url} could not be read: {exc}") from exc

    def data_urls(self, project_id: str, row: RunVersion) -> list[str]:
        """The object-store folders of every data input, datasets resolved."""
        urls = [row.data_url] if row.data_url else []
        wanted = [(row.dataset_id, row.dataset_version_id)] if row.dataset_id else []
        for item in json.loads(row.data_source):
            if item.get("data_url"):
                urls.append(item["data_url"])
            elif item.get("dataset_id"):
                wanted.append((item["dataset_id"], item.get("dataset_version", "")))
        for dataset_id, version_id in wanted:
            found = (
                self.datasets.find(project_id, dataset_id, version_id) if self.datasets else None
            )
            if found is None:
                raise StagingError(f"dataset {dataset_id} version {version_id} no longer exists")
            urls.append(found.data_url)
        return urls

    def stage(
        self, project_id: str, row: RunVersion, paths: RunPaths, log0: Path
    ) -> dict[str, str]:
        """Stage the code and data; what the RUNNING transition records of them."""
        store = self.store.for_project(project_id)
        for folder in (paths.code, paths.data, paths.output):
            folder.mkdir(parents=True, exist_ok=True)
        if row.code_digest:  # a re-run, or a restart: exactly the code recorded
            try:
                count = snapshots.restore(store, row.code_digest, _code_dir(paths, row))
            except snapshots.SnapshotError as exc:
                raise StagingError(str(exc)) from exc
            note(log0, f"staged {count} code file(s) from the snapshot {row.code_digest}")
        elif row.app_url:
            target = _code_dir(paths, row)
            count = self._download(store, row.app_url, target, "code folder")
            note(log0, f"staged {count} code file(s) from {row.app_url}")
        elif row.model_id:
            algorithms.stage(row.model_id, paths.code)
            note(log0, f"staged built-in algorithm {row.model_id}'s code")
        urls = self.data_urls(project_id, row)
        for url in urls:
            count = self._download(store, url, paths.data, "data folder")
            note(log0, f"staged {count} data file(s) from {url}")
        # The digest covers the code folder itself, not where it is staged: the
        # same code under another folder name is the same code.
        captured = snapshots.capture(store, _code_dir(paths, row), urls, paths.data)
        note(log0, captured.keep_error or f"code digest {captured.code_digest}")
        # Recorded with the RUNNING transition: one write less on the way to the run.
        return {
            "code_digest": captured.code_digest,
            "data_manifest": json.dumps(captured.data_manifest, separators=(",", ":")),
        }

    def node_staging(
        self,
        project_id: str,
        row: RunVersion,
        paths: RunPaths,
        code_digest: str,
        sync_period_s: float,
    ) -> NodeStaging:
        """How a node without this server's run folder builds its own: the code from
        the version's snapshot, the data from its inputs, the outputs to ``train_url``."""
        store = self.store.for_project(project_id)
        inputs = []
        if snapshots.is_kept(store, code_digest):
            files = snapshots.files_url(code_digest)
            if store.is_dir(parse_obs_path(files)):  # a code folder with no file has none
                inputs.append(Transfer(files, _code_dir(paths, row)))
        elif code_digest:
            raise StagingError(
                "the code snapshot was not kept, and the Ray nodes stage the code from it"
            )
        inputs += [Transfer(url, paths.data) for url in self.data_urls(project_id, row)]
        outputs = (Transfer(row.train_url, paths.output),) if row.train_url else ()
        return NodeStaging(paths.root, tuple(inputs), outputs, sync_period_s)

    def launcher_env(
        self, row: RunVersion, paths: RunPaths, data_urls: list[str], key: RunKey | None
    ) -> dict[str, str]:
        """What ModelArts' launcher tells every worker (DLS_*, MA_*, the object endpoint)."""
        gpus = row.gpu_num // max(1, row.worker_server_num)
        env = {
            "DLS_TASK_NUMBER": str(row.worker_server_num),
            "DLS_APP_URL": _obs_url(row.app_url),
            "DLS_DATA_URL": _obs_url(data_urls[0]) if data_urls else "",
            "DLS_TRAIN_URL": _obs_url(row.train_url),
            "MA_NUM_HOSTS": str(row.worker_server_num),
            "MA_NUM_GPUS": str(gpus),
            "MA_CURRENT_IP": "127.0.0.1",
            "MA_JOB_DIR": str(paths.code),
            "MA_LOG_DIR": str(paths.logs),
            # user-job-dir first: `from <code folder>.module import x` works, as on ModelArts.
            "PYTHONPATH": os.pathsep.join((str(paths.code), str(RUN_PYTHONPATH))),
        }
        if self.object_endpoint_url:
            env["S3_ENDPOINT"] = self.object_endpoint_url
            env["S3_USE_HTTPS"] = "1" if self.object_endpoint_url.startswith("https") else "0"
            env["S3_VERIFY_SSL"] = "0"
        if key is not None:
            ak, sk = key.access_key, key.secret
            env.update(
                {"ACCESS_KEY_ID": ak, "SECRET_ACCESS_KEY": sk,
                 "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk}
            )  # fmt: skip
        return env

    def mint_key(self, project_id: str, version_id: int) -> RunKey | None:
        """The run's key, for its environment; not valid until ``keep_key``."""
        if self.run_keys is None:
            return None
        ak, sk = self.run_keys.mint()
        return RunKey(project_id, version_id, ak, sk)

    def keep_key(self, key: RunKey | None) -> None:
        """Make the run's key valid (before its workers start)."""
        if key is None or self.run_keys is None:
            return
        try:
            self.run_keys.keep(key.project_id, key.version_id, key.access_key, key.secret)
        except Exception as exc:  # the store's own error: the run cannot reach its objects
            raise StagingError(f"could not issue the run's access key: {exc}") from exc

    def run_spec(
        self,
        row: RunVersion,
        paths: RunPaths,
        log_paths: list[Path],
        grant: Grant,
        project_id: str,
        key: RunKey | None = None,
    ) -> RunSpec:
        """The run's workers; ``key``, the run's own key to the object endpoint."""
        params = [(p["label"], p["value"]) for p in json.loads(row.parameter)]
        n = row.worker_server_num
        data_urls = self.data_urls(project_id, row)
        has_data = bool(data_urls)
        hosts = [f"127.0.0.1:{_free_port()}" for _ in range(n)]
        env_common = {
            **self.launcher_env(row, paths, data_urls, key),
            **{f"BATCH_CUSTOM{i}_HOSTS": host for i, host in enumerate(hosts)},
            "PYTHONUNBUFFERED": "1",
            "WORLD_SIZE": str(n),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(_free_port()),
            "VC_WORKER_NUM": str(n),
            "VC_WORKER_HOSTS": ",".join(["127.0.0.1"] * n),
            "TRAINJOBS_DATA_URL": str(paths.data),
            "TRAINJOBS_TRAIN_URL": str(paths.output),
        }
        code = _code_dir(paths, row)
        cwd = paths.code
        if row.user_command:
            note(log_paths[0], NO_CONTAINER_NOTE)
            argv = ["/bin/sh", "-c", row.user_command]
            env_common.update({label: value for label, value in params})
            cwd = code
        else:
            engine = self.catalog.engine(row.engine_id)
            if engine is None:
                raise StagingError(f"engine {row.engine_id} is no longer in the catalogue")
            argv = [
                engine.interpreter,
                str(_boot_file(paths, row)),
                f"--data_url={paths.data if has_data else ''}",
                f"--train_url={paths.output}",
                *(f"--{label}={value}" for label, value in params),
            ]
        per_worker = max(1, len(grant.core_slots) // n)
        gpus_per_worker = len(grant.gpu_slots) // n
        machine_cores = os.cpu_count() or 1
        # What a sandboxed worker sees of the run, at the same paths as outside.
        binds = (
            Bind(paths.code, paths.code, own=True),
            Bind(paths.data, paths.data, own=True),
            Bind(paths.output, paths.output, own=True),
            Bind(paths.logs, paths.logs, read_only=True),  # written through its stdout
            *volume_binds(json.loads(row.volumes)),
        )
        workers = []
        for rank in range(n):
            env = {
                **env_common,
                "RANK": str(rank),
                "LOCAL_RANK": str(rank),
                "VC_TASK_INDEX": str(rank),
                "DLS_TASK_INDEX": str(rank),
                "MA_TASK_INDEX": str(rank),
            }
            if gpus_per_worker:
                mine = grant.gpu_slots[rank * gpus_per_worker : (rank + 1) * gpus_per_worker]
                env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in mine)
            slots = grant.core_slots[rank * per_worker : (rank + 1) * per_worker]
            workers.append(
                WorkerSpec(
                    argv=argv,
                    cwd=cwd,
                    log_path=log_paths[rank],
                    env=env,
                    # Capacity may be configured above the machine's cores: slots wrap.
                    cpus=tuple(sorted({s % machine_cores for s in slots})),
                    binds=binds,
                    scratch=paths.scratch / str(rank),
                )
            )
        resources = WorkerResources(
            cores=max(1, int_or_one(row.core)), memory_gib=float_or_zero(row.cpu), gpus=row.gpu_num
        )
        return RunSpec(
            run_id=str(row.id), workers=workers, state_dir=paths.workers, resources=resources
        )


def check_staged(paths: RunPaths, row: RunVersion) -> None:
    """That the staged code holds the boot file the run starts."""
    if not row.user_command and not _boot_file(paths, row).is_file():
        raise StagingError(f"boot file {row.boot_file_url} is not in the staged code")


def _boot_file(paths: RunPaths, row: RunVersion) -> Path:
    if row.model_id:
        return paths.code / algorithms.BOOT_FILE
    app = parse_obs_path(row.app_url)
    return _code_dir(paths, row) / parse_obs_path(row.boot_file_url).relative_to(app)


def _code_dir(paths: RunPaths, row: RunVersion) -> Path:
    """Where the version's own code lies: ``user-job-dir/<code folder's name>`` for
    an ``app_url``, ``user-job-dir`` itself for a built-in algorithm's."""
    return paths.code / _code_folder_name(row.app_url) if row.app_url else paths.code


def _code_folder_name(app_url: str) -> str:
    """The last name of the code folder: ``/bucket/codes/`` stages as ``codes``."""
    name = app_url.rstrip("/").rsplit("/", 1)[-1]
    return name if name not in ("", ".", "..") else "code"


def _obs_url(path: str) -> str:
    """A D6 ``/bucket/key`` path as the ``obs://`` URL ModelArts scripts are given."""
    return "obs://" + path.lstrip("/") if path else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
