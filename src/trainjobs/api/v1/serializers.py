"""Stored rows to v1 response bodies, with the seed's field order and JSON types."""

from __future__ import annotations

import json
from typing import Any

from trainjobs.domain.catalog import Engine, Spec
from trainjobs.domain.jobs import Created, effective_duration
from trainjobs.domain.runner import version_name


def version(row: Any, now: int) -> dict[str, Any]:
    """One item of ``versions`` in GET .../versions (the seed's table 4)."""
    return {
        "version_id": row.id,
        "version_name": version_name(row.number),
        "pre_version_id": row.pre_version_id,
        "engine_type": row.engine_type,
        "engine_name": row.engine_name,
        "engine_id": row.engine_id,
        "engine_version": row.engine_version,
        "status": row.status,
        "app_url": row.app_url,
        "boot_file_url": row.boot_file_url,
        "create_time": row.create_time,
        "parameter": json.loads(row.parameter),
        "duration": effective_duration(row.status, row.start_time, row.duration, now),
        "spec_id": row.spec_id,
        "core": row.core,
        "cpu": row.cpu,
        "gpu": row.gpu_num > 0,
        "gpu_num": row.gpu_num,
        "gpu_type": row.gpu_type,
        "worker_server_num": row.worker_server_num,
        "data_url": row.data_url,
        "train_url": row.train_url,
        "log_url": row.log_url,
        "dataset_version_id": row.dataset_version_id,
        "dataset_id": row.dataset_id,
        "data_source": json.loads(row.data_source),
        "user_image_url": row.user_image_url,
        "user_command": row.user_command,
        "model_id": row.model_id,
        "model_metric_list": row.model_metric_list,
        "system_metric_list": row.system_metric_list,
        "resource_id": "",
        "dataset_name": row.dataset_name,
        "dataset_version_name": row.dataset_version_name,
        "start_time": row.start_time,
        "volumes": json.loads(row.volumes),
        "pool_id": row.pool_id,
        "pool_name": row.pool_name,
        "nas_mount_path": row.nas_mount_path,
        "nas_share_addr": row.nas_share_addr,
        "nas_type": row.nas_type,
    }


def version_list(job: Any, rows: Any, now: int) -> dict[str, Any]:
    items = []
    for row in rows:
        item = version(row, now)
        item["resource_id"] = job.resource_id
        items.append(item)
    return {
        "is_success": True,
        "job_id": job.id,
        "job_name": job.job_name,
        "job_desc": job.job_desc,
        "version_count": job.version_count,
        "versions": items,
    }


def version_detail(job: Any, row: Any, now: int) -> dict[str, Any]:
    """GET .../versions/{version_id}: the job's fields, then the version's (no ``gpu``,
    plus ``spec_code``)."""
    item = version(row, now)
    item.pop("gpu")
    item["resource_id"] = job.resource_id
    item["spec_code"] = row.spec_code
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
