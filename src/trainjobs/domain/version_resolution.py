"""What a version's configuration must pass before it is stored: the catalogue,
the datasets, the allowed volumes, what the pool can ever hold, and the code in
the object store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trainjobs.domain import configs, errors, volumes
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.datasets import DatasetService, DatasetVersion
from trainjobs.domain.runner import Runner
from trainjobs.domain.scheduler import demand_of
from trainjobs.objectstore import ObjectStore, parse_obs_path


class VersionResolver:
    def __init__(
        self,
        store: ObjectStore,
        catalog: Catalog,
        runner: Runner,
        datasets: DatasetService,
        host_paths: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.runner = runner
        self.datasets = datasets
        self.host_paths = tuple(host_paths)  # the folders host_path volumes may bind

    def resolve(
        self,
        project_id: str,
        parent: configs.VersionConfig | None,
        sent: Mapping[str, Any],
        check_code: bool = True,
    ) -> configs.Resolved:
        """``sent`` over ``parent``, checked against the catalogue, the datasets, the
        allowed volumes, the pool's capacity and (unless ``check_code`` is false) the
        code folder in the object store."""

        def find(dataset_id: str, version_id: str) -> DatasetVersion | None:
            return self.datasets.find(project_id, dataset_id, version_id)

        resolved = configs.resolve(configs.derive(parent, sent), self.catalog, find)
        volumes.check(resolved.config.volumes, self.host_paths, self.runner.runs_dir.parent)
        spec, workers = resolved.spec, resolved.config.worker_server_num
        demand = demand_of(spec.core, spec.cpu, spec.gpu_num, workers)
        if not self.runner.scheduler.can_ever_fit(demand):
            capacity = self.runner.scheduler.capacity
            raise errors.TooManyWorkers(
                f"{workers} worker(s) of spec {spec.spec_id} need {demand.cores} core(s), "
                f"{demand.memory_gib:g} GiB and {demand.gpus} GPU(s); the pool has "
                f"{capacity.cores} core(s), {capacity.memory_gib:g} GiB and {capacity.gpus} GPU(s)"
            )
        if check_code:  # a re-run's code is its snapshot, whatever the folder holds now
            self._check_code_exists(self.store.for_project(project_id), resolved.config)
        return resolved

    @staticmethod
    def _check_code_exists(store: ObjectStore, config: configs.VersionConfig) -> None:
        if not config.app_url:
            return
        app = parse_obs_path(config.app_url)
        if not store.is_dir(app):
            raise errors.InvalidCodeDir(
                f"code folder {config.app_url} does not exist in the object store; "
                "upload it first (trainjobs obs cp)"
            )
        if not store.is_file(parse_obs_path(config.boot_file_url)):
            raise errors.InvalidBootFile(
                f"boot file {config.boot_file_url} does not exist in the object store"
            )
