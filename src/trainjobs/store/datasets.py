"""Queries for the dataset registry."""

from __future__ import annotations

import sqlalchemy as sa

from trainjobs.store.tables import dataset_versions, datasets


def insert_dataset(
    conn: sa.Connection, dataset_id: str, project_id: str, name: str, now_ms: int
) -> None:
    conn.execute(
        datasets.insert().values(
            id=dataset_id, project_id=project_id, dataset_name=name, create_time=now_ms
        )
    )


def insert_dataset_version(
    conn: sa.Connection, version_id: str, dataset_id: str, name: str, data_url: str, now_ms: int
) -> None:
    conn.execute(
        dataset_versions.insert().values(
            id=version_id,
            dataset_id=dataset_id,
            version_name=name,
            data_url=data_url,
            create_time=now_ms,
        )
    )


def get_dataset(conn: sa.Connection, project_id: str, dataset_id: str) -> sa.Row | None:
    return conn.execute(
        sa.select(datasets).where(datasets.c.id == dataset_id, datasets.c.project_id == project_id)
    ).first()


def find_version(
    conn: sa.Connection, project_id: str, dataset_id: str, version_id: str
) -> sa.Row | None:
    """The version with its dataset's name, if both belong to the project."""
    return conn.execute(
        sa.select(
            dataset_versions.c.id,
            dataset_versions.c.version_name,
            dataset_versions.c.data_url,
            datasets.c.dataset_name,
        )
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(
            dataset_versions.c.id == version_id,
            datasets.c.id == dataset_id,
            datasets.c.project_id == project_id,
        )
    ).first()


def list_datasets(conn: sa.Connection, project_id: str) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(datasets)
            .where(datasets.c.project_id == project_id)
            .order_by(datasets.c.dataset_name)
        ).all()
    )


def versions_of(conn: sa.Connection, dataset_ids: list[str]) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(dataset_versions)
            .where(dataset_versions.c.dataset_id.in_(dataset_ids))
            .order_by(dataset_versions.c.create_time, dataset_versions.c.version_name)
        ).all()
    )


def name_taken(conn: sa.Connection, project_id: str, name: str) -> bool:
    return (
        conn.execute(
            sa.select(datasets.c.id).where(
                datasets.c.project_id == project_id, datasets.c.dataset_name == name
            )
        ).first()
        is not None
    )
