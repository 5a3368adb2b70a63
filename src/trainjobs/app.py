"""Assembles the service: storage, object store, catalogue, runner, HTTP routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from trainjobs import __version__
from trainjobs.api import errors
from trainjobs.api.auth import KeepRawHeaders
from trainjobs.api.middleware import BodyLimit, JsonBodies, RefuseNul, StripTrailingSlash
from trainjobs.api.ratelimit import RateLimiter
from trainjobs.api.v1 import datasets as dataset_routes
from trainjobs.api.v1 import logs, specs, training_jobs
from trainjobs.api.v3 import credentials as credential_routes
from trainjobs.api.v3 import router as identity_routes
from trainjobs.domain import identity
from trainjobs.domain.catalog import Catalog, load_catalog
from trainjobs.domain.datasets import DatasetService
from trainjobs.domain.jobs import JobService
from trainjobs.domain.logs import LogReader
from trainjobs.domain.object_keys import TemporaryKeys
from trainjobs.domain.runner import Runner
from trainjobs.domain.scheduler import Resources, Scheduler
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
    object_keys: TemporaryKeys

    @classmethod
    def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        db.migrate()
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
        executor, capacity = _executor(settings, capacity)
        datasets = DatasetService(db, store)
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
        )
        runner.start()
        recovered = runner.recover()
        if any(recovered.values()):
            log.warning("versions left active by a previous server: %s", recovered)
        runner.start_membership()
        credentials = identity.bootstrap(
            db,
            settings.data_dir,
            settings.endpoint,
            settings.job_quota,
            obs_endpoint=settings.object_endpoint_url,
        )
        moved = adopt_unowned_buckets(store, credentials["project_id"])
        if moved:
            log.warning("buckets moved into the default project's namespace: %s", moved)
        jobs = JobService(db, store, catalog, runner, datasets)
        identities = identity.IdentityService(
            db, settings.token_lifetime_s, settings.signature_skew_s
        )
        limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
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
            TemporaryKeys(db),
        )

    def object_backend(self) -> Backend:
        """What the object endpoint serves: the whole store, and the keys it accepts."""
        keys = self.object_keys

        def lookup(access_key: str) -> Key | None:
            found = keys.lookup(access_key)
            return Key(found.secret, found.project_id) if found else None

        return Backend(self.store, lookup, self.settings.signature_skew_s)

    def stop(self) -> None:
        self.runner.shutdown(timeout_s=self.settings.stop_grace_s + 10)
        self.db.dispose()


def _executor(settings: Settings, local: Resources) -> tuple[Executor, Resources]:
    """The executor the settings name, and the capacity versions are admitted against."""
    if settings.executor != "ray":
        return LocalExecutor(), local
    from trainjobs.executors.ray import RayExecutor

    executor = RayExecutor(settings.ray_address, shared_storage=settings.shared_storage)
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
        try:
            yield
        finally:
            app.state.services.stop()

    app = FastAPI(
        title="trainjobs",
        version=__version__,
        description="Training jobs with the ModelArts v1 training API",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(training_jobs.router)
    app.include_router(logs.router)
    app.include_router(dataset_routes.router)
    app.include_router(specs.router)
    app.include_router(identity_routes.router)
    app.include_router(credential_routes.router)

    @app.get("/health", tags=["service"])
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.add_middleware(JsonBodies)
    app.add_middleware(RefuseNul)
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(KeepRawHeaders)  # outermost: sees the headers as signed
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
