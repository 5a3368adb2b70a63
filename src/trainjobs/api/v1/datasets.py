"""Routes of the dataset registry (a trainjobs addition: ModelArts keeps datasets in
another service; here a dataset version names the object-store folder of its data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from trainjobs.api.auth import require_project
from trainjobs.api.v1.schemas import Lenient, Url
from trainjobs.domain.datasets import DatasetService, DatasetVersion

router = APIRouter(prefix="/v1/{project_id}/datasets", tags=["datasets"])

Project = Annotated[str, Depends(require_project)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class CreateDatasetIn(Lenient):
    dataset_name: Name
    version_name: Name = "V001"
    data_url: Url


class CreateDatasetVersionIn(Lenient):
    version_name: Name
    data_url: Url


def service(request: Request) -> DatasetService:
    result: DatasetService = request.app.state.services.datasets
    return result


def _version(v: DatasetVersion) -> dict[str, Any]:
    return {
        "dataset_id": v.dataset_id,
        "dataset_name": v.dataset_name,
        "version_id": v.version_id,
        "version_name": v.version_name,
        "data_url": v.data_url,
    }


@router.post("")
def create_dataset(body: CreateDatasetIn, project_id: Project, request: Request) -> JSONResponse:
    created = service(request).create(
        project_id, body.dataset_name, body.version_name, body.data_url
    )
    return JSONResponse({"is_success": True, **_version(created)})


@router.post("/{dataset_id}/versions")
def create_dataset_version(
    dataset_id: Annotated[str, Path(max_length=64)],
    body: CreateDatasetVersionIn,
    project_id: Project,
    request: Request,
) -> JSONResponse:
    created = service(request).add_version(project_id, dataset_id, body.version_name, body.data_url)
    return JSONResponse({"is_success": True, **_version(created)})


@router.get("")
def list_datasets(project_id: Project, request: Request) -> JSONResponse:
    found = service(request).list(project_id)
    return JSONResponse(
        {
            "is_success": True,
            "dataset_total_count": len(found),
            "datasets": [
                {
                    "dataset_id": d.dataset_id,
                    "dataset_name": d.dataset_name,
                    "create_time": d.create_time,
                    "versions": [
                        {"version_id": v.version_id, "version_name": v.version_name,
                         "data_url": v.data_url}
                        for v in d.versions
                    ],
                }
                for d in found
            ],
        }
    )  # fmt: skip
