"""Assembles the service: storage, object store, catalogue, runner, HTTP routes."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from trainjobs import __version__, console
from trainjobs.api import errors, tensorboard_proxy
from trainjobs.api.access_log import AccessLog
from trainjobs.api.auth import KeepRawHeaders
from trainjobs.api.middleware import BodyLimit, JsonBodies, RefuseNul, StripTrailingSlash
from trainjobs.api.ratelimit import RateLimiter
from trainjobs.api.v1 import datasets as dataset_routes
from trainjobs.api.v1 import logs, specs, training_configs, training_jobs, visualization
from trainjobs.api.v1.serializers import RenderedVersions
from trainjobs.api.v3 import credentials as credential_routes
from trainjobs.api.v3 import router as identity_routes
from trainjobs.domain import bootstrap, identity
from trainjobs.domain.catalog import Catalog, load_catalog
from trainjobs.domain.datasets import DatasetService
from trainjobs.domain.jobs import JobService
from trainjobs.domain.logs import LogReader
from trainjobs.domain.object_keys import TemporaryKeys
from trainjobs.domain.runner import Runner
from trainjobs.domain.scheduler import Resources, Scheduler
from trainjobs.domain.throttle import LoginThrottle
from trainjobs.domain.training_configs import TrainingConfigService
from trainjobs.domain.visualization import VisualizationService
from trainjobs.executors import sandbox
from trainjobs.executors.base import Executor
from trainjobs.executors.local import LocalExecutor
from trainjobs.executors.machine import describe_machine
from trainjobs.executors.sampler import Sampler
from trainjobs.objectstore import ObjectStore
from trainjobs.objectstore.store import adopt_unowned_buckets
from trainjobs.s3.app import Backend, create_s3_app
from trainjobs.s3.auth import Key
from trainjobs.settings import Settings
from trainjobs.store.database import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    store: ObjectStore
    catalog: Catalog
    runner: Runner
    jobs: JobService
    logs: LogReader
    datasets: DatasetService
    identity: identity.IdentityService
    rate_limiter: RateLimiter
    training_configs: TrainingConfigService
    visualization: VisualizationService
    object_keys: TemporaryKeys

    @classmethod
    def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url, settings.resolved_secret_key_file)
        db.migrate()
        db.secrets  # noqa: B018 - made (0600) at the first start, not at the first secret key
        store = ObjectStore.from_url(
            settings.resolved_object_store_url, endpoint=settings.obs_endpoint
        )
        machine = describe_machine()
        catalog = load_catalog(settings.data_dir, machine)
        capacity = Resources(
            cores=settings.capacity_cores or machine.cores,
            memory_gib=settings.capacity_memory_gib or float(machine.memory_gib),
            gpus=len(machine.gpus) if settings.capacity_gpus < 0 else settings.capacity_gpus,
        )
        policy = sandbox_policy(settings)
        executor, capacity = _executor(settings, capacity, policy)
        datasets = DatasetService(db, store)
        object_keys = TemporaryKeys(db)
        runner = Runner(
            db,
            store,
            executor,
            catalog,
            settings.runs_dir,
            settings.stop_grace_s,
            Sampler(period_s=settings.metrics_period_s),
            datasets,
            settings.sync_period_s,
            Scheduler(capacity),
            settings.heartbeat_s,
            settings.dead_after_s,
            # Runs reach their project's objects through the endpoint, with a key
            # of their own that lives as long as the run (moxing, boto3, s3fs).
            object_endpoint_url=settings.object_endpoint_url,
            run_keys=object_keys,
        )
        runner.start()
        recovered = runner.recover()
        if any(recovered.values()):
            log.warning("versions left active by a previous server: %s", recovered)
        runner.start_membership()
        credentials = bootstrap.bootstrap(
            db,
            settings.data_dir,
            settings.endpoint,
            settings.job_quota,
            obs_endpoint=settings.object_endpoint_url,
        )
        moved = adopt_unowned_buckets(store, credentials["project_id"])
        if moved:
            log.warning("buckets moved into the default project's namespace: %s", moved)
        jobs = JobService(db, store, catalog, runner, datasets, settings.host_path_allow)
        identities = identity.IdentityService(
            db, settings.token_lifetime_s, settings.signature_skew_s
        )
        limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        visualization = VisualizationService(
            db,
            store,
            settings.viz_dir,
            server_id=runner.server_id,
            owner_is_alive=runner.owner_is_alive,
            hour_s=settings.viz_hour_s,
            sync_period_s=settings.viz_sync_period_s,
            quota=settings.viz_quota,
        )
        visualization.recover()
        return cls(
            settings,
            db,
            store,
            catalog,
            runner,
            jobs,
            LogReader(jobs),
            datasets,
            identities,
            limiter,
            TrainingConfigService(db, catalog, datasets),
            visualization,
            object_keys,
        )

    def object_backend(self) -> Backend:
        """What the object endpoint serves: the whole store, and the keys it accepts."""
        keys = self.object_keys

        def lookup(access_key: str) -> Key | None:
            found = keys.lookup(access_key)
            return Key(found.secret, found.project_id) if found else None

        return Backend(self.store, lookup, self.settings.signature_skew_s)

    def stop(self) -> None:
        self.visualization.shutdown(timeout_s=self.settings.stop_grace_s + 10)
        self.runner.shutdown(timeout_s=self.settings.stop_grace_s + 10)
        self.db.dispose()


def sandbox_policy(settings: Settings) -> sandbox.Policy:
    """How workers are fenced in, from the settings: nothing of the data dir but their run."""
    return sandbox.Policy(
        enabled=settings.sandbox,
        hidden=(str(settings.data_dir.resolve()),),
        run_user=settings.run_user,
        passthrough=tuple(
            (name, os.environ[name]) for name in settings.run_env_passthrough if name in os.environ
        ),
    )


def _executor(
    settings: Settings, local: Resources, policy: sandbox.Policy
) -> tuple[Executor, Resources]:
    """The executor the settings name, and the capacity versions are admitted against."""
    if settings.executor != "ray":
        return LocalExecutor(policy), local
    from trainjobs.executors.ray import RayExecutor

    executor = RayExecutor(
        settings.ray_address, shared_storage=settings.shared_storage, policy=policy
    )
    # Ray places each worker on a node; trainjobs only refuses what the whole
    # cluster could never hold.
    cluster = executor.capacity()
    return executor, Resources(
        cores=settings.capacity_cores or cluster.cores,
        memory_gib=settings.capacity_memory_gib or cluster.memory_gib,
        gpus=cluster.gpus if settings.capacity_gpus < 0 else settings.capacity_gpus,
    )


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services.start(settings)
        # Listings reuse the rendering of versions that have ended.
        app.state.rendered_versions = RenderedVersions()
        try:
            yield
        finally:
            app.state.services.stop()

    app = FastAPI(
        title="trainjobs",
        version=__version__,
        description="Training jobs with the ModelArts v1 training API",
        lifespan=lifespan,
        # served by the console from the package's own copy of Swagger UI: nothing
        # loads from the internet
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    app.state.login_throttle = LoginThrottle(settings.login_max_failures)
    app.include_router(training_jobs.router)
    app.include_router(logs.router)
    app.include_router(dataset_routes.router)
    app.include_router(specs.router)
    app.include_router(training_configs.router)
    app.include_router(visualization.router)
    app.include_router(tensorboard_proxy.router)
    app.include_router(identity_routes.router)
    app.include_router(credential_routes.router)

    console.install(app)

    @app.get("/health", tags=["service"])
    async def health() -> JSONResponse:
        # Whether runs are fenced in is part of the service's health: an
        # operator who turned the sandbox off sees it on every check.
        return JSONResponse({"status": "ok", "sandbox": settings.sandbox})

    app.add_middleware(JsonBodies)
    app.add_middleware(RefuseNul)
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(KeepRawHeaders)  # sees the headers as signed
    app.add_middleware(AccessLog)  # outermost: every request, refused ones too
    return app


def create_object_app(app: FastAPI) -> ASGIApp:
    """The S3-compatible endpoint over ``app``'s object store (served on its own port)."""
    backends: list[Backend] = []

    def backend() -> Backend | None:
        if not backends:
            services = getattr(app.state, "services", None)
            if services is None:
                return None
            backends.append(services.object_backend())
        return backends[0]

    return create_s3_app(backend)
