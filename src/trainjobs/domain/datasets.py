"""The dataset registry: a dataset version names the object-store folder of its data."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.objectstore import ObjectStore, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath
from trainjobs.store import datasets as q
from trainjobs.store.database import Database

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class DatasetVersion:
    dataset_id: str
    dataset_name: str
    version_id: str
    version_name: str
    data_url: str


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    dataset_name: str
    create_time: int
    versions: list[DatasetVersion]


class DatasetService:
    def __init__(self, db: Database, store: ObjectStore) -> None:
        self.db = db
        self.store = store

    def find(self, project_id: str, dataset_id: str, version_id: str) -> DatasetVersion | None:
        with self.db.read() as conn:
            row = q.find_version(conn, project_id, dataset_id, version_id)
        if row is None:
            return None
        return DatasetVersion(dataset_id, row.dataset_name, row.id, row.version_name, row.data_url)

    def _check(self, project_id: str, name: str, data_url: str, what: str) -> None:
        if not NAME.match(name):
            raise errors.InvalidParameter(
                f"{what} '{name}' must be 1-64 letters, digits, '_' or '-'"
            )
        try:
            path = parse_obs_path(data_url)
        except InvalidObsPath as exc:
            raise errors.InvalidStorePath(f"data_url: {exc}") from exc
        if not self.store.for_project(project_id).exists(path):
            raise errors.InvalidStorePath(
                f"data_url {data_url} does not exist in the object store; upload the data first"
            )

    def create(
        self, project_id: str, dataset_name: str, version_name: str, data_url: str
    ) -> DatasetVersion:
        self._check(project_id, dataset_name, data_url, "dataset_name")
        self._check(project_id, version_name, data_url, "version_name")
        dataset_id, version_id = str(uuid.uuid4()), str(uuid.uuid4())
        try:
            with self.db.write() as conn:
                if q.name_taken(conn, project_id, dataset_name):
                    raise errors.InvalidParameter(f"dataset '{dataset_name}' exists already")
                q.insert_dataset(conn, dataset_id, project_id, dataset_name, now_ms())
                q.insert_dataset_version(
                    conn, version_id, dataset_id, version_name, data_url, now_ms()
                )
        except IntegrityError as exc:
            raise errors.InvalidParameter(f"dataset '{dataset_name}' exists already") from exc
        return DatasetVersion(dataset_id, dataset_name, version_id, version_name, data_url)

    def add_version(
        self, project_id: str, dataset_id: str, version_name: str, data_url: str
    ) -> DatasetVersion:
        self._check(project_id, version_name, data_url, "version_name")
        version_id = str(uuid.uuid4())
        try:
            with self.db.write() as conn:
                dataset = q.get_dataset(conn, project_id, dataset_id)
                if dataset is None:
                    raise errors.UnknownDataset(f"dataset {dataset_id} does not exist")
                q.insert_dataset_version(
                    conn, version_id, dataset_id, version_name, data_url, now_ms()
                )
        except IntegrityError as exc:
            raise errors.InvalidParameter(
                f"dataset {dataset_id} has a version '{version_name}' already"
            ) from exc
        return DatasetVersion(dataset_id, dataset.dataset_name, version_id, version_name, data_url)

    def list(self, project_id: str) -> list[Dataset]:
        with self.db.read() as conn:
            rows = q.list_datasets(conn, project_id)
            versions = q.versions_of(conn, [r.id for r in rows])
        by_dataset: dict[str, list[DatasetVersion]] = {r.id: [] for r in rows}
        names = {r.id: r.dataset_name for r in rows}
        for v in versions:
            by_dataset[v.dataset_id].append(
                DatasetVersion(v.dataset_id, names[v.dataset_id], v.id, v.version_name, v.data_url)
            )
        return [Dataset(r.id, r.dataset_name, r.create_time, by_dataset[r.id]) for r in rows]
