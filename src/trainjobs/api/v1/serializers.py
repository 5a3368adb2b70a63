"""Stored rows to v1 response bodies, with the seed's field order and JSON types."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from trainjobs.domain.catalog import Engine, Spec
from trainjobs.domain.jobs import Created, effective_duration
from trainjobs.domain.version_diff import Change, VersionDiff, VersionRecord
from trainjobs.statuses import TERMINAL


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def version_json(row: Any, now: int) -> str:
    """One version record as JSON text: the fields that change, spliced around the
    immutable snapshot rendered when the version was created."""
    duration = effective_duration(row.status, row.start_time, row.duration, now)
    return (
        f'{{"version_id":{row.id},"status":{row.status},"duration":{duration},'
        f'"start_time":{row.start_time},{row.snapshot[1:-1]},'
        f'"model_metric_list":{_dumps(row.model_metric_list)},'
        f'"system_metric_list":{_dumps(row.system_metric_list)}}}'
    )


class RenderedVersions:
    """The listing JSON of versions that have ended, rendered once.

    An ended version never changes again (its final status, duration and
    metrics are written in one transition), so its rendering can be reused by
    every later page that lists it; ids are never reused. Bounded: the oldest
    renderings are forgotten first.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._kept: dict[int, bytes] = {}

    def picker(self) -> tuple[dict[int, bytes], Callable[[int, int], bool]]:
        """A page's own view: ``known`` says (and keeps) what can be reused."""
        picked: dict[int, bytes] = {}

        def known(version_id: int, status: int) -> bool:
            text = self._kept.get(version_id) if status in TERMINAL else None
            if text is not None:
                picked[version_id] = text
            return text is not None

        return picked, known

    def render(self, row: Any, now: int, picked: Mapping[int, bytes]) -> bytes:
        text = picked.get(row.id)
        if text is not None:
            return text
        text = version_json(row, now).encode()
        if row.status in TERMINAL:
            if len(self._kept) >= self.limit:
                for old in list(self._kept)[: self.limit // 2]:
                    self._kept.pop(old, None)
            self._kept[row.id] = text
        return text


def version_list(
    job: Any,
    rows: Any,
    now: int,
    rendered: RenderedVersions | None = None,
    picked: Mapping[int, bytes] | None = None,
) -> bytes:
    """GET .../versions (the seed's tables 3 and 4), rendered straight to bytes."""
    head = (
        f'{{"is_success":true,"job_id":{job.id},"job_name":{_dumps(job.job_name)},'
        f'"job_desc":{_dumps(job.job_desc)},"version_count":{job.version_count},"versions":['
    ).encode()
    if rendered is None:
        items = [version_json(row, now).encode() for row in rows]
    else:
        items = [rendered.render(row, now, picked or {}) for row in rows]
    return b"".join((head, b",".join(items), b"]}"))


def version_detail(job: Any, row: Any, now: int) -> dict[str, Any]:
    """GET .../versions/{version_id}: the job's fields, then the version's (no ``gpu``,
    plus ``spec_code``)."""
    item = json.loads(version_json(row, now))
    item.pop("gpu")
    item["spec_code"] = row.spec_code
    # Not in the ModelArts table: why a version failed, was stopped or was lost,
    # in words a user can act on ("" otherwise).
    item["failure_reason"] = row.failure_reason
    # Also a trainjobs field: the Merkle digest of the code the version staged
    # ("" until it staged it); equal digests ran the same code.
    item["code_digest"] = row.code_digest
    return {
        "is_success": True,
        "job_id": job.id,
        "job_name": job.job_name,
        "job_desc": job.job_desc,
        **item,
    }


def job_item(row: Any, now: int) -> dict[str, Any]:
    return {
        "job_id": row.id,
        "job_name": row.job_name,
        "version_id": row.latest_version_id,
        "status": row.status,
        "create_time": row.create_time,
        "duration": effective_duration(row.status, row.start_time, row.duration, now),
        "job_desc": row.job_desc,
        "version_count": row.version_count,
    }


def created_job(created: Created) -> dict[str, Any]:
    return {
        "is_success": True,
        "job_id": created.job_id,
        "job_name": created.job_name,
        "status": created.status,
        "create_time": created.create_time,
        "version_id": created.version_id,
        "version_name": created.version_name,
        "resource_id": created.resource_id,
    }


def created_version(created: Created) -> dict[str, Any]:
    body = created_job(created)
    body.pop("resource_id")
    return body


def spec(s: Spec) -> dict[str, Any]:
    return {
        "spec_id": s.spec_id,
        "core": s.core,
        "cpu": s.cpu,
        "gpu_num": s.gpu_num,
        "gpu_type": s.gpu_type,
        "spec_code": s.spec_code,
        "max_num": s.max_num,
        "unit_num": s.unit_num,
        "storage": s.storage,
        "interface_type": s.interface_type,
        "no_resource": False,
    }


def engine(e: Engine) -> dict[str, Any]:
    return {
        "engine_type": e.engine_type,
        "engine_id": e.engine_id,
        "engine_name": e.engine_name,
        "engine_version": e.engine_version,
    }


def _side(v: VersionRecord) -> dict[str, Any]:
    return {
        "version_id": v.version_id,
        "version_name": v.version_name,
        "status": v.status,
        "code_digest": v.code_digest,
    }


def _changes(changes: list[Change]) -> list[dict[str, Any]]:
    return [{"name": c.name, "a": c.a, "b": c.b} for c in changes]


def version_diff(job_id: int, d: VersionDiff) -> dict[str, Any]:
    """GET .../versions/{a}/diff/{b}: what changed from A to B (None: absent)."""
    return {
        "is_success": True,
        "job_id": job_id,
        "a": _side(d.a),
        "b": _side(d.b),
        "config": _changes(d.config),
        "parameters": _changes(d.parameters),
        "metrics": _changes(d.metrics),
        "code": [{"path": f.path, "change": f.change, "diff": f.diff} for f in d.code],
        "code_note": d.code_note,
    }
