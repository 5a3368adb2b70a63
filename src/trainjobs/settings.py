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
    # Visualization jobs: seconds in a schedule's "hour" (tests shorten it), how
    # often a TensorBoard's event files are fetched from the store, and how many
    # visualization jobs a project may hold.
    viz_hour_s: float = 3600.0
    viz_sync_period_s: float = 5.0
    viz_quota: int = 100
    # Every worker runs in a bubblewrap sandbox; off only by the operator's explicit choice.
    sandbox: bool = True
    run_user: str = "nobody"  # whom workers run as when the server runs as root
    # Server variables handed to every run besides the allow-list (names).
    run_env_passthrough: tuple[str, ...] = ()
    # Host folders under which host_path volumes may be bound; empty: none.
    host_path_allow: tuple[str, ...] = ()
    secret_key_file: str = ""  # "": secret.key in the data dir
    # Failed logins of one user before a short lockout (an address may fail 4 times as
    # often); 0 turns the throttle off.
    login_max_failures: int = 5

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
            "viz_hour_s": float(env.get("TRAINJOBS_VIZ_HOUR_S", 3600.0)),
            "viz_sync_period_s": float(env.get("TRAINJOBS_VIZ_SYNC_PERIOD_S", 5.0)),
            "viz_quota": int(env.get("TRAINJOBS_VIZ_QUOTA", 100)),
            "shared_storage": _flag(env.get("TRAINJOBS_SHARED_STORAGE", "")),
            "sandbox": not _flag(env.get("TRAINJOBS_NO_SANDBOX", "")),
            "run_user": env.get("TRAINJOBS_RUN_USER", "nobody"),
            "run_env_passthrough": _names(env.get("TRAINJOBS_RUN_ENV_PASSTHROUGH", "")),
            "host_path_allow": tuple(
                p for p in env.get("TRAINJOBS_HOST_PATH_ALLOW", "").split(os.pathsep) if p
            ),
            "secret_key_file": env.get("TRAINJOBS_SECRET_KEY_FILE", ""),
            "login_max_failures": int(env.get("TRAINJOBS_LOGIN_MAX_FAILURES", 5)),
        }
        if "TRAINJOBS_DATA_DIR" in env:
            values["data_dir"] = Path(env["TRAINJOBS_DATA_DIR"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def resolved_secret_key_file(self) -> Path:
        return Path(self.secret_key_file) if self.secret_key_file else self.data_dir / "secret.key"

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
    def viz_dir(self) -> Path:
        return (self.data_dir / "visualizations").resolve()

    @property
    def runs_dir(self) -> Path:
        # Absolute: runs change directory, and their paths must still hold.
        return (self.data_dir / "runs").resolve()


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _names(text: str) -> tuple[str, ...]:
    return tuple(n for n in text.replace(",", " ").split() if n)
