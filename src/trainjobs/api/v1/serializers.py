"""Stored rows to v1 response bodies, with the seed's field order and JSON types."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from json import encoder
from typing import Any

from trainjobs.domain.catalog import Engine, Spec
from trainjobs.domain.jobs import Created, effective_duration
from trainjobs.domain.version_diff import Change, VersionDiff, VersionRecord
from trainjobs.statuses import TERMINAL


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# A str as a JSON string, as ``_dumps`` writes it, by the json module's own C
# encoder without the encoder object each ``json.dumps`` call builds: a third of
# the time, as fast as orjson measured here, which is therefore not used.
_json_str: Callable[[str], str] = encoder.encode_basestring


def version_json(row: Any, now: int) -> str:
    """One version record as JSON text: the fields that change, spliced around the
    immutable snapshot rendered when the version was created."""
    duration = effective_duration(row.status, row.start_time, row.duration, now)
    return (
        f'{{"version_id":{row.id},"status":{row.status},"duration":{duration},'
        f'"start_time":{row.start_time},{row.snapshot[1:-1]},'
        f'"model_metric_list":{_json_str(row.model_metric_list)},'
        f'"system_metric_list":{_json_str(row.system_metric_list)}}}'
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

    def render(self, rows: Iterable[Any], now: int, picked: Mapping[int, bytes]) -> list[bytes]:
        """Each row's JSON: the page's picks as they are, the others rendered (and
        kept if they have ended)."""
        pick = picked.get
        out: list[bytes] = []
        for row in rows:
            text = pick(row.id)
            out.append(text if text is not None else self._rendered(row, now))
        return out

    def _rendered(self, row: Any, now: int) -> bytes:
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
        f'{{"is_success":true,"job_id":{job.id},"job_name":{_json_str(job.job_name)},'
        f'"job_desc":{_json_str(job.job_desc)},"version_count":{job.version_count},"versions":['
    ).encode()
    if rendered is None:
        items = [version_json(row, now).encode() for row in rows]
    else:
        items = rendered.render(rows, now, picked or {})
    if not items:
        return head + b"]}"
    # The envelope goes onto the first and last items, so that the page's bytes
    # are copied once, by the join, not again to wrap them.
    items[0] = head + items[0]
    items[-1] += b"]}"
    return b",".join(items)


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
