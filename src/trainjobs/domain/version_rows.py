"""How a version is stored: the values of its row from a resolved configuration,
the JSON snapshot of its immutable fields, and its configuration read back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from trainjobs.domain import configs
from trainjobs.domain.metrics import EMPTY_MODEL_METRICS, EMPTY_SYSTEM_METRICS
from trainjobs.domain.run_records import version_name
from trainjobs.statuses import Status


def effective_duration(status: int, start_time: int, duration: int, now: int) -> int:
    """Running time in ms: to now while the run is alive, as recorded after."""
    if status in (Status.RUNNING, Status.KILLING) and start_time:
        return max(0, now - start_time)
    return duration


def config_of(row: Any) -> configs.VersionConfig:
    return configs.VersionConfig(
        worker_server_num=row.worker_server_num,
        app_url=row.app_url,
        boot_file_url=row.boot_file_url,
        user_image_url=row.user_image_url,
        user_command=row.user_command,
        model_id=row.model_id,
        parameter=tuple(configs.Parameter(**p) for p in json.loads(row.parameter)),
        data_url=row.data_url,
        data_source=tuple(json.loads(row.data_source)),
        dataset_id=row.dataset_id,
        dataset_version_id=row.dataset_version_id,
        spec_id=row.spec_id,
        pool_id=row.pool_id,
        engine_id=row.engine_id,
        train_url=row.train_url,
        log_url=row.log_url,
        volumes=tuple(json.loads(row.volumes)),
    )


def version_values(
    resolved: configs.Resolved,
    *,
    job_id: int,
    job_name: str,
    number: int,
    pre_version_id: int,
    now: int,
    resource_id: str,
    owner: str,
    code_digest: str,
) -> dict[str, Any]:
    """The row of a new version (INIT), snapshot included."""
    cfg = resolved.config
    train_url = cfg.train_url or configs.default_train_url(job_name, version_name(number))
    values = asdict(cfg)
    values.pop("train_url_is_default")
    values.update(
        parameter=json.dumps([{"label": p.label, "value": p.value} for p in cfg.parameter]),
        data_source=json.dumps([dict(d) for d in cfg.data_source]),
        volumes=json.dumps([dict(v) for v in cfg.volumes]),
        train_url=train_url,
        job_id=job_id,
        number=number,
        pre_version_id=pre_version_id,
        status=int(Status.INIT),
        create_time=now,
        engine_type=resolved.engine.engine_type,
        engine_name=resolved.engine.engine_name,
        engine_version=resolved.engine.engine_version,
        spec_code=resolved.spec.spec_code,
        core=resolved.spec.core,
        cpu=resolved.spec.cpu,
        gpu_num=resolved.spec.gpu_num,
        gpu_type=resolved.spec.gpu_type,
        pool_name=resolved.pool.pool_name,
        dataset_name=", ".join(d.dataset_name for d in resolved.datasets),
        dataset_version_name=", ".join(d.version_name for d in resolved.datasets),
        nas_mount_path="",
        nas_share_addr="",
        nas_type="",
        model_metric_list=EMPTY_MODEL_METRICS,
        system_metric_list=EMPTY_SYSTEM_METRICS,
    )
    for volume in cfg.volumes:
        nfs = volume.get("nfs")
        if nfs:
            values.update(
                nas_mount_path=nfs.get("dest_path", ""),
                nas_share_addr=nfs.get("src_path", ""),
                nas_type="nfs",
            )
    values["snapshot"] = snapshot(values, resource_id)
    values["owner"] = owner
    values["code_digest"] = code_digest
    return values


# The immutable fields of a version, in the order the API lists them.
SNAPSHOT_FIELDS = (
    "version_name", "pre_version_id", "engine_type", "engine_name", "engine_id",
    "engine_version", "app_url", "boot_file_url", "create_time", "parameter", "spec_id",
    "core", "cpu", "gpu", "gpu_num", "gpu_type", "worker_server_num", "data_url",
    "train_url", "log_url", "dataset_version_id", "dataset_id", "data_source",
    "user_image_url", "user_command", "model_id", "resource_id", "dataset_name",
    "dataset_version_name", "volumes", "pool_id", "pool_name", "nas_mount_path",
    "nas_share_addr", "nas_type",
)  # fmt: skip


def snapshot(values: Mapping[str, Any], resource_id: str) -> str:
    """The JSON object of a version's immutable fields, from its stored values."""
    derived = {
        "version_name": version_name(values["number"]),
        "gpu": values["gpu_num"] > 0,
        "resource_id": resource_id,
        "parameter": json.loads(values["parameter"]),
        "data_source": json.loads(values["data_source"]),
        "volumes": json.loads(values["volumes"]),
    }
    fields = {k: derived[k] if k in derived else values[k] for k in SNAPSHOT_FIELDS}
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
