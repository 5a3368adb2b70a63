"""What the operations on jobs and versions answer: the created job or version,
and pages of jobs and of a job's versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Created:
    job_id: int
    job_name: str
    status: int
    create_time: int
    version_id: int
    version_name: str
    resource_id: str


@dataclass(frozen=True)
class JobPage:
    total: int  # jobs matching the filters
    quota: int
    left: int  # jobs the project can still create
    jobs: Sequence[sa.Row]


@dataclass(frozen=True)
class VersionPage:
    job: sa.Row
    versions: Sequence[sa.Row]
