"""How two versions of a job differ: configuration, parameters, metrics and code.

The domain function the API's diff route, the CLI and a web console share. It
works on ``VersionRecord``s, the domain's own small view of a stored version,
and reads the code from the kept snapshots (``domain/snapshots.py``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainjobs.domain import snapshots
from trainjobs.objectstore import ObjectStore

# Fields every version has its own value of: not configuration.
NOT_CONFIG = frozenset(
    {"version_name", "create_time", "pre_version_id", "resource_id", "parameter", "gpu"}
)
MAX_TEXT_BYTES = 1 << 20  # larger files are compared by digest only
MAX_DIFF_LINES = 2000  # per file


@dataclass(frozen=True)
class VersionRecord:
    """One version as the diff needs it."""

    version_id: int
    version_name: str
    status: int
    config: Mapping[str, Any]  # the immutable fields of the version, by API name
    parameters: Mapping[str, str]
    metrics: Mapping[str, float]  # total metrics, then per-class ones as "name[i]"
    code_digest: str

    @classmethod
    def from_row(cls, row: Any) -> VersionRecord:
        config = json.loads(row.snapshot) if row.snapshot else {}
        parameters = {p["label"]: p["value"] for p in json.loads(row.parameter)}
        return cls(
            version_id=int(row.id),
            version_name=str(config.get("version_name", "")),
            status=int(row.status),
            config={k: v for k, v in config.items() if k not in NOT_CONFIG},
            parameters=parameters,
            metrics=_metrics(row.model_metric_list),
            code_digest=str(row.code_digest),
        )


@dataclass(frozen=True)
class Change:
    name: str
    a: Any  # None: absent in A
    b: Any  # None: absent in B


@dataclass(frozen=True)
class FileChange:
    path: str
    change: str  # "added", "removed" or "modified"
    diff: str  # unified diff; a one-line note for binary or large files


@dataclass(frozen=True)
class VersionDiff:
    a: VersionRecord
    b: VersionRecord
    config: list[Change] = field(default_factory=list)
    parameters: list[Change] = field(default_factory=list)
    metrics: list[Change] = field(default_factory=list)
    code: list[FileChange] = field(default_factory=list)
    code_note: str = ""  # why the code could not be compared, if it could not

    @property
    def same(self) -> bool:
        return not (self.config or self.parameters or self.metrics or self.code)


def _metrics(text: str) -> dict[str, float]:
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return {}
    out: dict[str, float] = {}
    total = (data.get("total_metric") or {}).get("total_metric_values") or {}
    out.update({str(k): v for k, v in total.items()})
    for i, item in enumerate(data.get("metric") or []):
        for k, v in (item.get("metric_values") or {}).items():
            out[f"{k}[{i}]"] = v
    return out


def _changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Change]:
    return [
        Change(name, a.get(name), b.get(name))
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    ]


def _text(data: bytes) -> list[str] | None:
    if len(data) > MAX_TEXT_BYTES or b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _file_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    old_lines = _text(old) if old is not None else []
    new_lines = _text(new) if new is not None else []
    if old_lines is None or new_lines is None:
        return f"binary or large file {path} differs\n"
    lines = list(
        difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=f"a/{path}" if old is not None else "/dev/null",
            tofile=f"b/{path}" if new is not None else "/dev/null",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def code_changes(a: Mapping[str, bytes], b: Mapping[str, bytes]) -> list[FileChange]:
    """The files that differ between two code trees, each with its unified diff."""
    found = []
    for path in sorted(set(a) | set(b)):
        old, new = a.get(path), b.get(path)
        if old == new:
            continue
        change = "added" if old is None else "removed" if new is None else "modified"
        found.append(FileChange(path, change, _file_diff(path, old, new)))
    return found


def diff_versions(store: ObjectStore, a: VersionRecord, b: VersionRecord) -> VersionDiff:
    """How ``b`` differs from ``a``; ``store`` is the project's object store."""
    note = ""
    code: list[FileChange] = []
    if a.code_digest != b.code_digest:
        missing = [v.version_name for v in (a, b) if not v.code_digest]
        if missing:
            note = f"{' and '.join(missing)} recorded no code digest (its code was never staged)"
        else:
            gone = [v.version_name for v in (a, b) if not snapshots.is_kept(store, v.code_digest)]
            if gone:
                note = f"the code snapshot of {' and '.join(gone)} is no longer in the object store"
            else:
                files_a = snapshots.read_files(store, a.code_digest)
                files_b = snapshots.read_files(store, b.code_digest)
                code = code_changes(files_a, files_b)
    return VersionDiff(
        a=a,
        b=b,
        config=_changes(a.config, b.config),
        parameters=_changes(a.parameters, b.parameters),
        metrics=_changes(a.metrics, b.metrics),
        code=code,
        code_note=note,
    )
