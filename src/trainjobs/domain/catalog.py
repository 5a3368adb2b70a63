"""The catalogue of resource specs, pools and engines a version can run on.

By default it describes this machine truthfully and offers the engines that
can really run here; ``catalog.toml`` in the data dir replaces any part.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from trainjobs.executors.machine import Machine, describe_machine

CATALOG_FILE = "catalog.toml"


@dataclass(frozen=True)
class Engine:
    engine_id: int
    engine_name: str
    engine_version: str
    engine_type: int
    interpreter: str


@dataclass(frozen=True)
class Spec:
    spec_id: int
    spec_code: str
    core: str
    cpu: str  # memory, GiB
    gpu_num: int
    gpu_type: str
    max_num: int
    unit_num: int = 1
    storage: str = ""
    interface_type: int = 1


@dataclass(frozen=True)
class Pool:
    pool_id: str
    pool_name: str


class CatalogError(ValueError):
    pass


@dataclass(frozen=True)
class Catalog:
    engines: Sequence[Engine]
    specs: Sequence[Spec]
    pools: Sequence[Pool]
    default_engine_id: int

    def engine(self, engine_id: int) -> Engine | None:
        return next((e for e in self.engines if e.engine_id == engine_id), None)

    def spec(self, spec_id: int) -> Spec | None:
        return next((s for s in self.specs if s.spec_id == spec_id), None)

    def pool(self, pool_id: str) -> Pool | None:
        return next((p for p in self.pools if p.pool_id == pool_id), None)

    @property
    def default_pool(self) -> Pool:
        return self.pools[0]

    @property
    def default_spec(self) -> Spec:
        return self.specs[0]


def default_catalog(machine: Machine | None = None) -> Catalog:
    machine = machine or describe_machine()
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    engines = [Engine(1, "Python", f"python-{py}", 1, sys.executable)]
    # Frameworks importable by the server's interpreter run through it too.
    for engine_id, module, name in ((2, "torch", "PyTorch"), (3, "sklearn", "Scikit-learn")):
        spec = importlib.util.find_spec(module)
        if spec is not None:
            engines.append(Engine(engine_id, name, f"{name}-python{py}", 1, sys.executable))
    # One core with its share of memory (up to one worker per core), and the
    # whole machine; one GPU with its share of cores when GPUs exist.
    share = max(1, machine.memory_gib // machine.cores)
    specs = [
        Spec(
            spec_id=1,
            spec_code="local.cpu.1u",
            core="1",
            cpu=str(share),
            gpu_num=0,
            gpu_type="",
            max_num=machine.cores,
        )
    ]
    if machine.cores > 1:
        specs.append(
            Spec(
                spec_id=2,
                spec_code=f"local.cpu.{machine.cores}u",
                core=str(machine.cores),
                cpu=str(share * machine.cores),
                gpu_num=0,
                gpu_type="",
                max_num=1,
            )
        )
    if machine.gpus:
        gpus = len(machine.gpus)
        cores_per_gpu = max(1, machine.cores // gpus)
        specs.append(
            Spec(
                spec_id=3,
                spec_code="local.gpu.1",
                core=str(cores_per_gpu),
                cpu=str(share * cores_per_gpu),
                gpu_num=1,
                gpu_type=machine.gpus[0].name,
                max_num=gpus,
            )
        )
    return Catalog(
        engines=engines,
        specs=specs,
        pools=[Pool("local", "local")],
        default_engine_id=1,
    )


def load_catalog(data_dir: Path, machine: Machine | None = None) -> Catalog:
    """The default catalogue, with any section that ``catalog.toml`` defines replacing it."""
    base = default_catalog(machine)
    path = data_dir / CATALOG_FILE
    if not path.exists():
        return base
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    engines = _items(raw, "engines", Engine, path) or list(base.engines)
    specs = _items(raw, "specs", Spec, path) or list(base.specs)
    pools = _items(raw, "pools", Pool, path) or list(base.pools)
    default_engine_id = int(raw.get("default_engine_id", engines[0].engine_id))
    catalog = Catalog(engines, specs, pools, default_engine_id)
    if catalog.engine(default_engine_id) is None:
        raise CatalogError(f"{path}: default_engine_id {default_engine_id} names no engine")
    for kind, items, key in (
        ("engine", engines, "engine_id"),
        ("spec", specs, "spec_id"),
        ("pool", pools, "pool_id"),
    ):
        ids = [getattr(i, key) for i in items]
        if len(ids) != len(set(ids)):
            raise CatalogError(f"{path}: two {kind}s share a {key}")
    return catalog


def _items(raw: dict[str, Any], key: str, cls: type[Any], path: Path) -> list[Any]:
    known = {f.name for f in fields(cls)}
    items = []
    for entry in raw.get(key, []):
        if not isinstance(entry, dict):
            raise CatalogError(f"{path}: every [[{key}]] entry must be a table")
        unknown = set(entry) - known
        if unknown:
            raise CatalogError(f"{path}: [[{key}]] has unknown keys {sorted(unknown)}")
        if cls is Spec:
            entry = {**entry, "core": str(entry.get("core", "")), "cpu": str(entry.get("cpu", ""))}
        if cls is Engine:
            entry = {"interpreter": sys.executable, "engine_type": 1, **entry}
        try:
            items.append(cls(**entry))
        except TypeError as exc:
            raise CatalogError(f"{path}: [[{key}]] {exc}") from exc
    return items
