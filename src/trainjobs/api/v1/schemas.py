"""Request bodies and query values of the v1 API, with the spec's types and ranges.

Unknown fields are ignored: clients send whole job objects back (DECISIONS D6).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

MAX_ID = 2**63 - 1
URL_CHARS = 1024
NAME_PATTERN = r"^[A-Za-z0-9_-]+$"


def _no_bool(value: Any) -> Any:
    # JSON true is not an integer, whatever Python thinks.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


def _text_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("must be a string or a number")
    return value if isinstance(value, str) else str(value)


Id = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=MAX_ID)]
OptionalId = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_ID)]
Url = Annotated[str, Field(max_length=URL_CHARS)]
JobSortKey = Literal["job_name", "job_desc", "status", "duration", "version_count", "create_time"]


def _no_nul(value: Any) -> Any:
    """Refuse NUL anywhere in a body: it cannot reach an argv, an environment
    variable or a PostgreSQL text column."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)
    return value


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        return _no_nul(data)


class ParameterIn(Lenient):
    label: Annotated[
        str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    ]
    value: Annotated[str, BeforeValidator(_text_value), Field(max_length=4096)] = ""


class DataSourceIn(Lenient):
    dataset_id: Annotated[str, Field(max_length=64)] = ""
    dataset_version: Annotated[str, Field(max_length=64)] = ""
    type: Annotated[str, Field(max_length=16)] = ""
    data_url: Url = ""


class MountIn(Lenient):
    id: Annotated[str, Field(max_length=128)] = ""
    src_path: Annotated[str, Field(min_length=1, max_length=URL_CHARS)]
    dest_path: Annotated[str, Field(min_length=1, max_length=URL_CHARS)]
    read_only: bool = False


class VolumeIn(Lenient):
    nfs: MountIn | None = None
    host_path: MountIn | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> VolumeIn:
        if (self.nfs is None) == (self.host_path is None):
            raise ValueError("each volume is exactly one of nfs or host_path")
        if self.nfs is not None and not self.nfs.id:
            raise ValueError("an nfs volume needs its id")
        return self

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class VersionConfigIn(Lenient):
    """Config fields shared by job and version creation; every one optional here,
    since a version inherits what it does not send."""

    # The upper bound is the spec's max_num, checked by the domain (ModelArts.2793).
    worker_server_num: (
        Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=2**31 - 1)] | None
    ) = None
    app_url: Url | None = None
    boot_file_url: Url | None = None
    parameter: Annotated[list[ParameterIn], Field(max_length=256)] | None = None
    data_url: Url | None = None
    dataset_id: Annotated[str, Field(max_length=64)] | None = None
    dataset_version_id: Annotated[str, Field(max_length=64)] | None = None
    data_source: Annotated[list[DataSourceIn], Field(max_length=64)] | None = None
    spec_id: OptionalId | None = None
    pool_id: Annotated[str, Field(max_length=64)] | None = None
    engine_id: OptionalId | None = None
    model_id: OptionalId | None = None
    train_url: Url | None = None
    log_url: Url | None = None
    user_image_url: Url | None = None
    user_command: Annotated[str, Field(max_length=4096)] | None = None

    def sent(self) -> dict[str, Any]:
        """What the client set, as domain values (nulls count as not sent)."""
        fields = set(VersionConfigIn.model_fields)
        values = self.model_dump(include=fields, exclude_unset=True, exclude_none=True)
        return values


class JobConfigIn(VersionConfigIn):
    create_version: bool = True
    volumes: Annotated[list[VolumeIn], Field(max_length=16)] | None = None

    def sent(self) -> dict[str, Any]:
        values = super().sent()
        if self.volumes is not None:
            values["volumes"] = [v.wire() for v in self.volumes]
        return values


class NewVersionConfigIn(VersionConfigIn):
    pre_version_id: OptionalId | None = None


class CreateJobIn(Lenient):
    job_name: Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]
    job_desc: Annotated[str, Field(max_length=256)] = ""
    workspace_id: Annotated[str, Field(max_length=64)] = "0"
    config: JobConfigIn

    @field_validator("job_desc", "workspace_id", mode="before")
    @classmethod
    def _null_is_default(cls, value: Any, info: Any) -> Any:
        if value is None:
            return "0" if info.field_name == "workspace_id" else ""
        return value


class CreateVersionIn(Lenient):
    job_desc: Annotated[str, Field(max_length=256)] | None = None
    config: NewVersionConfigIn = Field(default_factory=NewVersionConfigIn)
    # A trainjobs addition: run exactly the code snapshot of this version of the
    # job, with its configuration (``config`` may change parameters, not code).
    rerun_of: OptionalId | None = None


class UpdateJobIn(Lenient):
    job_desc: Annotated[str, Field(max_length=256)]
