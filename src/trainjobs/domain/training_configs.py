"""Training-job configurations (C1-C5, D24): named, reusable version configs.

A configuration is checked like a version's ``config`` (the same rules, the
same catalogue), except that its object-store paths need not exist yet. The
samples are read-only configurations, one per built-in algorithm.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from trainjobs.domain import algorithms, configs, errors
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.clock import now_ms
from trainjobs.domain.datasets import DatasetService, DatasetVersion
from trainjobs.store import training_configs as q
from trainjobs.store.database import Database

SAMPLE_PREFIX = "sample-"


@dataclass(frozen=True)
class StoredConfig:
    config_name: str
    config_desc: str
    create_time: int
    config: configs.VersionConfig


@dataclass(frozen=True)
class ConfigPage:
    total: int
    configs: Sequence[StoredConfig]


def to_json(config: configs.VersionConfig) -> str:
    values = asdict(config)
    values.pop("train_url_is_default")
    values["parameter"] = [{"label": p.label, "value": p.value} for p in config.parameter]
    values["data_source"] = [dict(d) for d in config.data_source]
    values["volumes"] = [dict(v) for v in config.volumes]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> configs.VersionConfig:
    values = json.loads(text)
    known = set(configs.VersionConfig.__dataclass_fields__)
    values = {k: v for k, v in values.items() if k in known}
    values["parameter"] = tuple(configs.Parameter(**p) for p in values.get("parameter", []))
    values["data_source"] = tuple(values.get("data_source", []))
    values["volumes"] = tuple(values.get("volumes", []))
    return configs.VersionConfig(**values)


def samples(catalog: Catalog) -> list[StoredConfig]:
    """One ready configuration per built-in algorithm; data_url is left for the user."""
    engine = algorithms.engine_of(catalog)
    found = []
    for algorithm in algorithms.ALGORITHMS:
        config = configs.VersionConfig(
            worker_server_num=1,
            model_id=algorithm.model_id,
            parameter=tuple(configs.Parameter(p.label, p.value) for p in algorithm.parameters),
            spec_id=catalog.default_spec.spec_id,
            pool_id=catalog.default_pool.pool_id,
            engine_id=engine.engine_id,
        )
        found.append(
            StoredConfig(
                config_name=SAMPLE_PREFIX + algorithm.model_name.replace("_", "-"),
                config_desc=f"{algorithm.model_name}: set data_url to a folder of this form. "
                + algorithm.model_dataset_format,
                create_time=algorithms.CREATE_TIME,
                config=config,
            )
        )
    return found


class TrainingConfigService:
    def __init__(self, db: Database, catalog: Catalog, datasets: DatasetService) -> None:
        self.db = db
        self.catalog = catalog
        self.datasets = datasets

    def _check(self, project_id: str, config: configs.VersionConfig) -> configs.VersionConfig:
        def find(dataset_id: str, version_id: str) -> DatasetVersion | None:
            return self.datasets.find(project_id, dataset_id, version_id)

        return configs.resolve(config, self.catalog, find).config

    def create(self, project_id: str, name: str, desc: str, sent: Mapping[str, Any]) -> None:
        config = self._check(project_id, configs.derive(None, sent))
        try:
            with self.db.write() as conn:
                if q.name_taken(conn, project_id, name):
                    raise errors.DuplicateJobName(f"configuration {name} already exists")
                q.insert(
                    conn,
                    project_id=project_id,
                    config_name=name,
                    config_desc=desc,
                    create_time=now_ms(),
                    config=to_json(config),
                )
        except IntegrityError as exc:  # a concurrent create took the name first
            raise errors.DuplicateJobName(f"configuration {name} already exists") from exc

    def get(self, project_id: str, name: str, sample: bool = False) -> StoredConfig:
        if sample:
            found = next((s for s in samples(self.catalog) if s.config_name == name), None)
            if found is None:
                raise errors.NotFound(f"sample configuration {name} does not exist")
            return found
        with self.db.read() as conn:
            row = q.get(conn, project_id, name)
        if row is None:
            raise errors.NotFound(
                f"configuration {name} does not exist "
                "(GET /v1/{project_id}/training-job-configs lists them)"
            )
        return StoredConfig(
            row.config_name, row.config_desc, row.create_time, from_json(row.config)
        )

    def update(self, project_id: str, name: str, desc: str | None, sent: Mapping[str, Any]) -> None:
        with self.db.read() as conn:
            row = q.get(conn, project_id, name)
        if row is None:
            raise errors.NotFound(f"configuration {name} does not exist")
        stored = from_json(row.config)
        config = self._check(project_id, configs.derive(replace(stored), sent))
        values: dict[str, Any] = {"config": to_json(config)}
        if desc is not None:
            values["config_desc"] = desc
        with self.db.write() as conn:
            if q.get(conn, project_id, name) is None:
                raise errors.NotFound(f"configuration {name} does not exist")
            q.update(conn, row.id, **values)

    def delete(self, project_id: str, name: str) -> None:
        with self.db.write() as conn:
            if not q.delete(conn, project_id, name):
                raise errors.NotFound(f"configuration {name} does not exist")

    def list(
        self,
        project_id: str,
        *,
        sample: bool,
        search: str,
        sort_by: str,
        descending: bool,
        page: int,
        per_page: int,
    ) -> ConfigPage:
        offset = (page - 1) * per_page
        if sample:
            found = [s for s in samples(self.catalog) if search.lower() in s.config_name.lower()]
            found.sort(key=lambda s: (getattr(s, sort_by), s.config_name), reverse=descending)
            return ConfigPage(len(found), found[offset : offset + per_page])
        with self.db.read() as conn:
            total, rows = q.page(
                conn,
                project_id,
                search=search,
                sort_by=sort_by,
                descending=descending,
                limit=per_page,
                offset=offset,
            )
        return ConfigPage(
            total,
            [
                StoredConfig(r.config_name, r.config_desc, r.create_time, from_json(r.config))
                for r in rows
            ],
        )
