"""``Estimator``: the legacy SDK's training calls over the v1 API.

Names, parameters, defaults and return shapes follow SDK.md. Dict-returning
calls return the service's JSON as it came (``is_success`` included); a
failure raises ``ModelArtsError`` instead of returning an error dict.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from trainjobs.sdk import run_config
from trainjobs.sdk.client import Id
from trainjobs.sdk.errors import InvalidArgument
from trainjobs.sdk.run_config import Hyperparameters
from trainjobs.sdk.session import Session
from trainjobs.sdk.training_job import INVALID_PARAMETER, JobMethods, TrainingJob
from trainjobs.sdk.visualization import VisualizationJob  # noqa: F401 - the legacy import path


def random_job_name() -> str:
    return f"job-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class Estimator(JobMethods):
    """What to train and where; creates jobs and versions, and looks up existing ones.

    For lookups, construct it with only the session and ``job_id`` (and
    ``version_id``); the create calls need the training arguments.
    """

    def __init__(
        self,
        modelarts_session: Session,
        train_instance_count: int | None = None,
        output_path: str | None = None,
        train_instance_type: str | int | None = None,
        code_dir: str | None = None,
        boot_file: str | None = None,
        framework_type: str | None = None,
        framework_version: str | None = None,
        hyperparameters: Hyperparameters | None = None,
        log_url: str | None = None,
        job_description: str | None = None,
        user_image_url: str | None = None,
        user_command: str | None = None,
        model_name: int | str | None = None,
        job_id: Id | None = None,
        version_id: Id | None = None,
        config_name: str | None = None,
    ) -> None:
        self.session = modelarts_session
        self.train_instance_count = train_instance_count
        self.output_path = output_path
        self.train_instance_type = train_instance_type
        self.code_dir = code_dir
        self.boot_file = boot_file
        self.framework_type = framework_type
        self.framework_version = framework_version
        self.hyperparameters = hyperparameters
        self.log_url = log_url
        self.job_description = job_description
        self.user_image_url = user_image_url
        self.user_command = user_command
        self.model_name = model_name
        self.job_id = job_id
        self.version_id = version_id
        self.config_name = config_name

    # -- class-level calls ----------------------------------------------------

    @classmethod
    def get_job_list(
        cls,
        modelarts_session: Session,
        status: int | str | None = None,
        per_page: int = 10,
        page: int = 1,
        sortBy: str | None = None,  # noqa: N803 - the legacy SDK's name
        order: str = "desc",
        search_content: str | None = None,
        sort_by: str | None = None,
    ) -> dict[str, Any]:
        """Training jobs, one row each with its latest version.

        ``sortBy`` and ``sort_by`` are the same (the legacy SDK used either);
        the default order is ``job_name``, descending, as in the legacy SDK.
        """
        return modelarts_session.client.list_jobs(
            status=status,
            per_page=per_page,
            page=page,
            sort_by=sortBy or sort_by or "job_name",
            order=order,
            search_content=search_content or None,
        )

    @classmethod
    def delete_job_by_id(cls, modelarts_session: Session, job_id: Id) -> dict[str, Any]:
        return modelarts_session.client.delete_job(job_id)

    @classmethod
    def get_framework_list(cls, modelarts_session: Session) -> list[dict[str, str]]:
        """The engines, as ``[{"framework_type", "framework_version"}]``."""
        engines = modelarts_session.client.ai_engines().get("engines", [])
        return [
            {"framework_type": e["engine_name"], "framework_version": e["engine_version"]}
            for e in engines
        ]

    @classmethod
    def get_train_instance_types(cls, modelarts_session: Session) -> list[str]:
        """The resource specs' codes: each is a valid ``train_instance_type``."""
        specs = modelarts_session.client.resource_specs().get("specs", [])
        return [str(s["spec_code"]) for s in specs]

    @classmethod
    def get_built_in_algorithms(cls, modelarts_session: Session) -> dict[str, Any]:
        """``model_total_count`` and ``models``: the built-in algorithms."""
        return modelarts_session.client.built_in_algorithms()

    @classmethod
    def get_job_configs_list(
        cls,
        modelarts_session: Session,
        per_page: int = 10,
        page: int = 1,
        sortBy: str | None = None,  # noqa: N803 - the legacy SDK's name
        order: str = "asc",
        search_content: str | None = None,
        sort_by: str | None = None,
    ) -> dict[str, Any]:
        """``config_total_count`` and ``configs``: the saved parameter configurations."""
        return modelarts_session.client.list_configs(
            per_page=per_page,
            page=page,
            sort_by=sortBy or sort_by,
            order=order,
            search_content=search_content or None,
        )

    @classmethod
    def get_job_configs_object_list(
        cls,
        modelarts_session: Session,
        per_page: int = 10,
        page: int = 1,
        sortBy: str | None = None,  # noqa: N803 - the legacy SDK's name
        order: str = "asc",
        search_content: str | None = None,
        is_show: bool = True,
        sort_by: str | None = None,
    ) -> list[TrainingJob]:
        """One configuration handle per configuration; ``is_show`` prints them as a table."""
        listed = cls.get_job_configs_list(
            modelarts_session, per_page, page, sortBy, order, search_content, sort_by
        )
        configs = listed.get("configs", [])
        if is_show:
            table = Table("config_name", "config_desc", "engine", "create_time")
            for c in configs:
                engine = f"{c.get('engine_name', '')} {c.get('engine_version', '')}".strip()
                table.add_row(
                    str(c.get("config_name", "")),
                    str(c.get("config_desc", "")),
                    engine,
                    str(c.get("create_time", "")),
                )
            Console().print(table)
        return [TrainingJob(modelarts_session, config_name=str(c["config_name"])) for c in configs]

    # -- creating -------------------------------------------------------------

    def fit(
        self,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
        wait: bool = False,
        job_name: str | None = None,
    ) -> TrainingJob:
        """Create a training job (random name unless ``job_name``) and its first version.

        On an Estimator built with ``job_id`` it creates a new version of that job
        instead, derived from ``version_id`` (default: the job's latest version).
        ``wait`` blocks until the run ends, showing its status as it goes.
        """
        config = self._run_config(inputs, dataset_id, dataset_version_id)
        if self.job_id is not None:
            return self._new_version(self.job_id, self.version_id, config, None, wait)
        body: dict[str, Any] = {"job_name": job_name or random_job_name(), "config": config}
        if self.job_description is not None:
            body["job_desc"] = self.job_description
        job = TrainingJob.from_created(self.session, self.session.client.create_job(body))
        if wait:
            job.wait()
        return job

    def create_job_version(
        self,
        job_id: Id | None = None,
        pre_version_id: Id | None = None,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
        wait: bool = False,
        job_desc: str | None = None,
    ) -> TrainingJob:
        """Create a version of ``job_id`` derived from ``pre_version_id``.

        Both default to this Estimator's ``job_id`` and ``version_id``; without a
        ``pre_version_id`` the job's latest version is the parent. What this
        Estimator does not set is inherited from the parent. ``job_desc``
        replaces the job's description.
        """
        target = job_id if job_id is not None else self._job()
        parent = pre_version_id if pre_version_id is not None else self.version_id
        config = self._run_config(inputs, dataset_id, dataset_version_id)
        return self._new_version(target, parent, config, job_desc, wait)

    def create_job_configs(
        self,
        config_name: str | None = None,
        config_desc: str | None = None,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
    ) -> TrainingJob:
        """Save this Estimator's settings as a named parameter configuration (a date-based
        name when none is given); return a handle on it."""
        name = config_name or f"cfg-{time.strftime('%Y%m%d%H%M%S')}"
        body: dict[str, Any] = {
            "config_name": name,
            **self._run_config(inputs, dataset_id, dataset_version_id),
        }
        if config_desc is not None:
            body["config_desc"] = config_desc
        self.session.client.create_config(body)
        return TrainingJob(self.session, config_name=name)

    def update_job_configs(
        self,
        config_name: str | None = None,
        config_desc: str | None = None,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
        data_source: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Replace a configuration's settings with this Estimator's."""
        name = config_name or self._config_name()
        body: dict[str, Any] = self._run_config(inputs, dataset_id, dataset_version_id)
        if config_desc is not None:
            body["config_desc"] = config_desc
        if data_source is not None:
            body["data_source"] = [dict(item) for item in data_source]
        return self.session.client.update_config(name, body)

    def _new_version(
        self,
        job_id: Id,
        pre_version_id: Id | None,
        config: dict[str, Any],
        job_desc: str | None,
        wait: bool,
    ) -> TrainingJob:
        if pre_version_id is not None and pre_version_id != "":
            try:
                config["pre_version_id"] = int(pre_version_id)
            except ValueError as exc:
                raise InvalidArgument(
                    INVALID_PARAMETER, f"pre_version_id '{pre_version_id}' is not a version id"
                ) from exc
        body: dict[str, Any] = {"config": config}
        if job_desc is not None:
            body["job_desc"] = job_desc
        created = self.session.client.create_version(job_id, body)
        job = TrainingJob.from_created(self.session, {"job_id": job_id, **created})
        if wait:
            job.wait()
        return job

    def _run_config(
        self, inputs: str | None, dataset_id: str | None, dataset_version_id: str | None
    ) -> dict[str, Any]:
        """The v1 ``config`` for what this Estimator and the call set; unset fields are left
        out, so the service applies its defaults (or a new version inherits them)."""
        config: dict[str, Any] = {}
        if self.train_instance_count is not None:
            config["worker_server_num"] = int(self.train_instance_count)
        if self.code_dir:
            config["app_url"] = self.code_dir
        if self.boot_file:
            config["boot_file_url"] = run_config.boot_file_url(self.code_dir, self.boot_file)
        if self.hyperparameters is not None:
            config["parameter"] = run_config.parameters(self.hyperparameters)
        if self.output_path:
            config["train_url"] = self.output_path
        if self.log_url:
            config["log_url"] = self.log_url
        if inputs:
            config["data_url"] = inputs
        if dataset_id:
            config["dataset_id"] = dataset_id
        if dataset_version_id:
            config["dataset_version_id"] = dataset_version_id
        if self.user_image_url:
            config["user_image_url"] = self.user_image_url
        if self.user_command:
            config["user_command"] = self.user_command
        if self.model_name is not None and self.model_name != "":
            config["model_id"] = run_config.model_id(self.session, self.model_name)
        spec_id = run_config.spec_id(self.session, self.train_instance_type)
        if spec_id is not None:
            config["spec_id"] = spec_id
        # A custom image or a built-in algorithm brings its own engine.
        own_engine = self.user_image_url or self.model_name is not None
        engine_id = None
        if self.framework_type and not own_engine:
            engine_id = run_config.engine_id(
                self.session, self.framework_type, self.framework_version
            )
        if engine_id is not None:
            config["engine_id"] = engine_id
        return config


__all__ = ["Estimator", "TrainingJob"]
