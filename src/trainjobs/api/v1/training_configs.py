"""Routes of /v1/{project_id}/training-job-configs (C1-C5) and
/v1/{project_id}/built-in-algorithms (T10)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from trainjobs.api.auth import require_project
from trainjobs.api.v1 import schemas
from trainjobs.domain import algorithms
from trainjobs.domain.catalog import Catalog
from trainjobs.domain.training_configs import StoredConfig, TrainingConfigService

router = APIRouter(prefix="/v1/{project_id}", tags=["training job configurations"])

Project = Annotated[str, Depends(require_project)]
ConfigName = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=schemas.NAME_PATTERN, description="Configuration"),
]
ConfigType = Literal["custom", "sample"]
OK: dict[str, Any] = {"is_success": True}


class ConfigFieldsIn(schemas.JobConfigIn):
    """C1/C4's flat body: a version config and the configuration's description."""

    config_desc: Annotated[str, Field(max_length=256)] | None = None


class CreateConfigIn(ConfigFieldsIn):
    config_name: Annotated[str, Field(min_length=1, max_length=64, pattern=schemas.NAME_PATTERN)]


def service(request: Request) -> TrainingConfigService:
    configs: TrainingConfigService = request.app.state.services.training_configs
    return configs


def catalog_of(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.services.catalog
    return catalog


@router.post("/training-job-configs")
def create_config(body: CreateConfigIn, project_id: Project, request: Request) -> JSONResponse:
    service(request).create(project_id, body.config_name, body.config_desc or "", body.sent())
    return JSONResponse(OK)


@router.get("/training-job-configs")
def list_configs(
    project_id: Project,
    request: Request,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 10,
    page: Annotated[int, Query(ge=1, le=65535)] = 1,
    sortBy: Annotated[  # noqa: N803 - the wire name
        Literal["config_name", "config_desc", "create_time"] | None, Query()
    ] = None,
    sort_by: Annotated[Literal["config_name", "config_desc", "create_time"] | None, Query()] = None,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    search_content: Annotated[str, Query(max_length=64)] = "",
    config_type: Annotated[ConfigType, Query()] = "custom",
) -> JSONResponse:
    result = service(request).list(
        project_id,
        sample=config_type == "sample",
        search=search_content,
        sort_by=sortBy or sort_by or "config_name",
        descending=order == "desc",
        page=page,
        per_page=per_page,
    )
    catalog = catalog_of(request)
    return JSONResponse(
        {
            "is_success": True,
            "config_total_count": result.total,
            "configs": [config_item(c, catalog) for c in result.configs],
        }
    )


@router.get("/training-job-configs/{config_name}")
def get_config(
    config_name: ConfigName,
    project_id: Project,
    request: Request,
    config_type: Annotated[ConfigType, Query()] = "custom",
) -> JSONResponse:
    found = service(request).get(project_id, config_name, sample=config_type == "sample")
    return JSONResponse({"is_success": True, **config_detail(found, catalog_of(request))})


@router.put("/training-job-configs/{config_name}")
def update_config(
    config_name: ConfigName, body: ConfigFieldsIn, project_id: Project, request: Request
) -> JSONResponse:
    service(request).update(project_id, config_name, body.config_desc, body.sent())
    return JSONResponse(OK)


@router.delete("/training-job-configs/{config_name}")
def delete_config(config_name: ConfigName, project_id: Project, request: Request) -> JSONResponse:
    service(request).delete(project_id, config_name)
    return JSONResponse(OK)


@router.get("/built-in-algorithms", tags=["built-in algorithms"])
def list_algorithms(
    project_id: Project,
    request: Request,
    per_page: Annotated[int, Query(ge=1, le=100)] = 10,
    page: Annotated[int, Query(ge=1, le=65535)] = 1,
    sortBy: Annotated[  # noqa: N803 - the wire name
        Literal[algorithms.SORT_KEYS] | None, Query()  # type: ignore[valid-type]
    ] = None,
    sort_by: Annotated[Literal[algorithms.SORT_KEYS] | None, Query()] = None,  # type: ignore[valid-type]
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    search_content: Annotated[str, Query(max_length=64)] = "",
) -> JSONResponse:
    total, models = algorithms.listing(
        catalog_of(request),
        search=search_content,
        sort_by=sortBy or sort_by or "engine",
        descending=order == "desc",
        page=page,
        per_page=per_page,
    )
    return JSONResponse({"is_success": True, "model_total_count": total, "models": models})


def _engine_fields(config: StoredConfig, catalog: Catalog) -> dict[str, Any]:
    engine = catalog.engine(config.config.engine_id)
    return {
        "engine_type": engine.engine_type if engine else 0,
        "engine_name": engine.engine_name if engine else "",
        "engine_id": config.config.engine_id,
        "engine_version": engine.engine_version if engine else "",
    }


def config_item(config: StoredConfig, catalog: Catalog) -> dict[str, Any]:
    return {
        "config_name": config.config_name,
        "config_desc": config.config_desc,
        "create_time": config.create_time,
        **_engine_fields(config, catalog),
        "user_image_url": config.config.user_image_url,
        "user_command": config.config.user_command,
    }


def config_detail(stored: StoredConfig, catalog: Catalog) -> dict[str, Any]:
    c = stored.config
    spec = catalog.spec(c.spec_id)
    pool = catalog.pool(c.pool_id)
    nfs = next((v["nfs"] for v in c.volumes if v.get("nfs")), None)
    return {
        "config_name": stored.config_name,
        "config_desc": stored.config_desc,
        "worker_server_num": c.worker_server_num,
        "app_url": c.app_url,
        "boot_file_url": c.boot_file_url,
        "model_id": c.model_id,
        "parameter": [{"label": p.label, "value": p.value} for p in c.parameter],
        "spec_id": c.spec_id,
        "data_url": c.data_url,
        "dataset_id": c.dataset_id,
        "dataset_version_id": c.dataset_version_id,
        "data_source": json.loads(json.dumps([dict(d) for d in c.data_source])),
        "volumes": [dict(v) for v in c.volumes],
        **_engine_fields(stored, catalog),
        "train_url": c.train_url,
        "log_url": c.log_url,
        "user_image_url": c.user_image_url,
        "user_command": c.user_command,
        "spec_code": spec.spec_code if spec else "",
        "gpu_type": spec.gpu_type if spec else "",
        "create_time": stored.create_time,
        "cpu": spec.cpu if spec else "",
        "gpu_num": spec.gpu_num if spec else 0,
        "core": spec.core if spec else "",
        "dataset_name": "",
        "dataset_version_name": "",
        "pool_id": c.pool_id,
        "pool_name": pool.pool_name if pool else "",
        "nas_mount_path": nfs.get("dest_path", "") if nfs else "",
        "nas_share_addr": nfs.get("src_path", "") if nfs else "",
        "nas_type": "nfs" if nfs else "",
    }
