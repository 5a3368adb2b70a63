"""A version's configuration: inheritance from its parent, defaults, and the rules.

The API layer checks types and lengths; this module checks what the fields
mean together (which program runs, which data goes in, where it runs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from trainjobs.domain import algorithms, errors
from trainjobs.domain.catalog import Catalog, Engine, Pool, Spec
from trainjobs.domain.datasets import DatasetVersion
from trainjobs.objectstore.paths import InvalidObsPath, ObsPath, parse_obs_path

# Fields that choose what runs, and what data goes in: sending any one of a
# group replaces the whole group of the parent version instead of mixing.
PROGRAM_FIELDS = ("app_url", "boot_file_url", "user_image_url", "user_command", "model_id")
DATA_FIELDS = ("data_url", "data_source", "dataset_id", "dataset_version_id")
DEFAULT_OUTPUT_BUCKET = "trainjobs"


@dataclass(frozen=True)
class Parameter:
    label: str
    value: str


@dataclass(frozen=True)
class VersionConfig:
    worker_server_num: int = 0
    app_url: str = ""
    boot_file_url: str = ""
    user_image_url: str = ""
    user_command: str = ""
    model_id: int = 0
    parameter: tuple[Parameter, ...] = ()
    data_url: str = ""
    data_source: tuple[Mapping[str, str], ...] = ()
    dataset_id: str = ""
    dataset_version_id: str = ""
    spec_id: int = 0
    pool_id: str = ""
    engine_id: int = 0
    train_url: str = ""
    log_url: str = ""
    volumes: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    # set when train_url was chosen by the service, so a derived version gets its own
    train_url_is_default: bool = False


@dataclass(frozen=True)
class Resolved:
    """A checked configuration with the catalogue entries it names."""

    config: VersionConfig
    engine: Engine
    spec: Spec
    pool: Pool
    datasets: tuple[DatasetVersion, ...] = ()


FindDataset = Callable[[str, str], DatasetVersion | None]


def derive(parent: VersionConfig | None, sent: Mapping[str, Any]) -> VersionConfig:
    """The parent's configuration overridden by what the request sent."""
    base = parent or VersionConfig()
    values = dict(sent)
    if any(k in values for k in PROGRAM_FIELDS):
        for k in PROGRAM_FIELDS:
            values.setdefault(k, VersionConfig.__dataclass_fields__[k].default)
    if any(k in values for k in DATA_FIELDS):
        for k in DATA_FIELDS:
            values.setdefault(k, VersionConfig.__dataclass_fields__[k].default)
    if "parameter" in values:
        values["parameter"] = tuple(
            Parameter(p["label"], p.get("value", "")) for p in values["parameter"]
        )
    for key in ("data_source", "volumes"):
        if key in values:
            values[key] = tuple(values[key])
    if parent is not None and parent.train_url_is_default and "train_url" not in values:
        values["train_url"] = ""
    if "train_url" in values:
        values["train_url_is_default"] = False
    return replace(base, **values)


def _obs(value: str, error: type[errors.DomainError], name: str) -> ObsPath:
    try:
        return parse_obs_path(value)
    except InvalidObsPath as exc:
        raise error(f"{name}: {exc}") from exc


def resolve(config: VersionConfig, catalog: Catalog, find_dataset: FindDataset) -> Resolved:
    """Check the rules of a complete configuration; fill catalogue defaults."""
    _check_program(config)
    if config.model_id:
        config = _with_algorithm(config, catalog)
    datasets = _check_data(config, find_dataset)
    for name in ("train_url", "log_url"):
        value = getattr(config, name)
        if value:
            _obs(value, errors.InvalidStorePath, name)
    labels = [p.label for p in config.parameter]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise errors.InvalidParameter(f"parameter labels must be unique; repeated: {duplicates}")

    if not config.spec_id and not config.pool_id:
        raise errors.InvalidParameter(
            "config needs spec_id or pool_id (GET /v1/{project_id}/job/resource-specs lists specs)"
        )
    pool = catalog.pool(config.pool_id) if config.pool_id else catalog.default_pool
    if pool is None:
        known = ", ".join(p.pool_id for p in catalog.pools)
        raise errors.InvalidParameter(f"pool_id '{config.pool_id}' does not exist; pools: {known}")
    spec = catalog.spec(config.spec_id) if config.spec_id else catalog.default_spec
    if spec is None:
        raise errors.UnknownSpec(
            f"spec_id {config.spec_id} does not exist; "
            "GET /v1/{project_id}/job/resource-specs lists the specs"
        )
    engine_id = config.engine_id or catalog.default_engine_id
    engine = catalog.engine(engine_id)
    if engine is None:
        raise errors.UnknownEngine(
            f"engine_id {engine_id} does not exist; "
            "GET /v1/{project_id}/job/ai-engines lists the engines"
        )
    if config.worker_server_num < 1:
        raise errors.InvalidParameter("config.worker_server_num is required and must be at least 1")
    if config.worker_server_num > spec.max_num:
        raise errors.TooManyWorkers(
            f"worker_server_num {config.worker_server_num} is above spec {spec.spec_id}'s "
            f"max_num {spec.max_num}"
        )
    return Resolved(
        config=replace(
            config, engine_id=engine.engine_id, spec_id=spec.spec_id, pool_id=pool.pool_id
        ),
        engine=engine,
        spec=spec,
        pool=pool,
        datasets=datasets,
    )


def _check_program(config: VersionConfig) -> None:
    kinds = [
        name
        for name, present in (
            ("app_url + boot_file_url", bool(config.app_url or config.boot_file_url)),
            ("user_image_url + user_command", bool(config.user_image_url or config.user_command)),
            ("model_id", bool(config.model_id)),
        )
        if present
    ]
    if len(kinds) != 1:
        raise errors.InvalidParameter(
            "config must name exactly one program: app_url + boot_file_url, "
            "user_image_url + user_command, or model_id"
            + (f" (got {', '.join(kinds)})" if kinds else "")
        )
    if config.model_id:
        return
    if config.user_image_url or config.user_command:
        if not (config.user_image_url and config.user_command):
            raise errors.IncompleteCustomImage(
                "a custom-image run needs both user_image_url and user_command"
            )
        return
    if not config.app_url:
        raise errors.InvalidCodeDir("app_url (the code folder) is required with boot_file_url")
    app = _obs(config.app_url, errors.InvalidCodeDir, "app_url")
    if not config.boot_file_url:
        raise errors.InvalidBootFile("boot_file_url is required with app_url")
    boot = _obs(config.boot_file_url, errors.InvalidBootFile, "boot_file_url")
    if boot == app or not app.contains(boot):
        raise errors.InvalidBootFile(
            f"boot_file_url {config.boot_file_url} must be a file inside app_url {config.app_url}"
        )


def _with_algorithm(config: VersionConfig, catalog: Catalog) -> VersionConfig:
    """A built-in algorithm runs with its own engine and its parameters' defaults."""
    algorithm = algorithms.get(config.model_id)
    merged = algorithms.merged_parameters(
        algorithm, [(p.label, p.value) for p in config.parameter]
    )
    return replace(
        config,
        engine_id=algorithms.engine_of(catalog).engine_id,
        parameter=tuple(Parameter(label, value) for label, value in merged),
    )


def _dataset(find: FindDataset, dataset_id: str, version_id: str) -> DatasetVersion:
    found = find(dataset_id, version_id)
    if found is None:
        raise errors.UnknownDataset(
            f"dataset {dataset_id} has no version {version_id}; "
            "GET /v1/{project_id}/datasets lists the datasets"
        )
    return found


def _check_data(config: VersionConfig, find: FindDataset) -> tuple[DatasetVersion, ...]:
    chosen = [
        name
        for name, present in (
            ("data_url", bool(config.data_url)),
            ("data_source", bool(config.data_source)),
            (
                "dataset_id + dataset_version_id",
                bool(config.dataset_id or config.dataset_version_id),
            ),
        )
        if present
    ]
    if len(chosen) > 1:
        raise errors.InvalidParameter(f"give at most one data input; got {' and '.join(chosen)}")
    if config.data_url:
        _obs(config.data_url, errors.InvalidStorePath, "data_url")
    if bool(config.dataset_id) != bool(config.dataset_version_id):
        raise errors.InvalidParameter("dataset_id and dataset_version_id go together")
    found = []
    if config.dataset_id:
        found.append(_dataset(find, config.dataset_id, config.dataset_version_id))
    types = {item.get("type", "") for item in config.data_source}
    if len(types) > 1:
        raise errors.InvalidParameter("data_source items cannot mix the obs and dataset types")
    for item in config.data_source:
        kind = item.get("type") or ("dataset" if item.get("dataset_id") else "obs")
        if kind == "obs":
            if item.get("dataset_id") or item.get("dataset_version"):
                raise errors.InvalidParameter("a data_source item of type obs takes only data_url")
            if not item.get("data_url"):
                raise errors.InvalidParameter("a data_source item of type obs needs data_url")
            _obs(item["data_url"], errors.InvalidStorePath, "data_source.data_url")
        elif kind == "dataset":
            if item.get("data_url"):
                raise errors.InvalidParameter(
                    "a data_source item of type dataset takes no data_url"
                )
            if not (item.get("dataset_id") and item.get("dataset_version")):
                raise errors.InvalidParameter(
                    "a data_source item of type dataset needs dataset_id and dataset_version"
                )
            found.append(_dataset(find, item["dataset_id"], item["dataset_version"]))
        else:
            raise errors.InvalidParameter(f"data_source type must be obs or dataset, not '{kind}'")
    return tuple(found)


def default_train_url(job_name: str, version_name: str) -> str:
    return f"/{DEFAULT_OUTPUT_BUCKET}/{job_name}/{version_name}/output/"


def replace_default_train_url(config: VersionConfig) -> VersionConfig:
    """A parent whose outputs went to its own default folder: the child gets its own."""
    return replace(config, train_url="", train_url_is_default=True)
