"""Service settings: the embedded defaults, overridable by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("trainjobs-data")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_JOB_QUOTA = 10_000
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TOKEN_LIFETIME_S = 24 * 3600.0
DEFAULT_SIGNATURE_SKEW_S = 15 * 60.0
DEFAULT_REGION = "local"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # The S3-compatible object endpoint's port: -1 for the API's port + 1, 0 for any
    # free one (``serve`` binds it and records the one it got).
    s3_port: int = -1
    database_url: str = ""  # "": SQLite in the data dir
    object_store_url: str = ""  # "": a folder in the data dir; or s3://BUCKET[/PREFIX]
    obs_endpoint: str = ""  # the S3-compatible service's URL (OBS, MinIO, Ceph)
    job_quota: int = DEFAULT_JOB_QUOTA
    stop_grace_s: float = 10.0
    metrics_period_s: float = 1.0
    sync_period_s: float = 60.0
    max_body_bytes: int = MAX_BODY_BYTES
    # What the local executor may hand out; 0 means what this machine has.
    capacity_cores: int = 0
    capacity_memory_gib: float = 0.0
    capacity_gpus: int = -1
    heartbeat_s: float = 5.0
    dead_after_s: float = 30.0  # a server whose heartbeat is older is taken over
    rate_limit_per_s: float = 1000.0  # per token or access key; 0 turns it off
    rate_limit_burst: float = 2000.0
    token_lifetime_s: float = DEFAULT_TOKEN_LIFETIME_S
    signature_skew_s: float = DEFAULT_SIGNATURE_SKEW_S
    region: str = DEFAULT_REGION  # the region the token catalogue names
    executor: str = "local"  # "local" or "ray"
    ray_address: str = "auto"  # Ray's own name for the cluster this machine is a node of
    # Whether every Ray node mounts the data dir at the same path (required by "ray").
    shared_storage: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get("TRAINJOBS_DATABASE_URL", ""),
            "object_store_url": env.get("TRAINJOBS_OBJECT_STORE_URL", ""),
            "obs_endpoint": env.get("TRAINJOBS_OBS_ENDPOINT", ""),
            "s3_port": int(env.get("TRAINJOBS_S3_PORT", -1)),
            "job_quota": int(env.get("TRAINJOBS_JOB_QUOTA", DEFAULT_JOB_QUOTA)),
            "stop_grace_s": float(env.get("TRAINJOBS_STOP_GRACE_S", 10.0)),
            "metrics_period_s": float(env.get("TRAINJOBS_METRICS_PERIOD_S", 1.0)),
            "sync_period_s": float(env.get("TRAINJOBS_SYNC_PERIOD_S", 60.0)),
            "capacity_cores": int(env.get("TRAINJOBS_CAPACITY_CORES", 0)),
            "capacity_memory_gib": float(env.get("TRAINJOBS_CAPACITY_MEMORY_GIB", 0)),
            "capacity_gpus": int(env.get("TRAINJOBS_CAPACITY_GPUS", -1)),
            "heartbeat_s": float(env.get("TRAINJOBS_HEARTBEAT_S", 5.0)),
            "dead_after_s": float(env.get("TRAINJOBS_DEAD_AFTER_S", 30.0)),
            "rate_limit_per_s": float(env.get("TRAINJOBS_RATE_LIMIT_PER_S", 1000.0)),
            "rate_limit_burst": float(env.get("TRAINJOBS_RATE_LIMIT_BURST", 2000.0)),
            "token_lifetime_s": float(
                env.get("TRAINJOBS_TOKEN_LIFETIME_S", DEFAULT_TOKEN_LIFETIME_S)
            ),
            "signature_skew_s": float(
                env.get("TRAINJOBS_SIGNATURE_SKEW_S", DEFAULT_SIGNATURE_SKEW_S)
            ),
            "region": env.get("TRAINJOBS_REGION", DEFAULT_REGION),
            "executor": env.get("TRAINJOBS_EXECUTOR", "local"),
            "ray_address": env.get("TRAINJOBS_RAY_ADDRESS", "auto"),
            "shared_storage": env.get("TRAINJOBS_SHARED_STORAGE", "").lower()
            in ("1", "true", "yes"),
        }
        if "TRAINJOBS_DATA_DIR" in env:
            values["data_dir"] = Path(env["TRAINJOBS_DATA_DIR"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def resolved_s3_port(self) -> int:
        return self.port + 1 if self.s3_port < 0 else self.s3_port

    @property
    def object_endpoint_url(self) -> str:
        """The URL of the S3-compatible endpoint over this server's object store."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.resolved_s3_port}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'trainjobs.db').resolve()}"

    @property
    def resolved_object_store_url(self) -> str:
        return self.object_store_url or str((self.data_dir / "obs").resolve())

    @property
    def runs_dir(self) -> Path:
        # Absolute: runs change directory, and their paths must still hold.
        return (self.data_dir / "runs").resolve()
