"""The schema, as SQLAlchemy Core tables.

Ids are integers from separate sequences, never reused (AUTOINCREMENT on
SQLite, identity columns elsewhere). Wire-shaped list fields (``parameter``,
``data_source``, ``volumes``) are kept as the JSON text the API returns, so a
listing embeds them without re-validating.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# BIGINT keys on PostgreSQL; SQLite only autoincrements "INTEGER PRIMARY KEY".
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("job_quota", sa.Integer, nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
)

# A user signs in to one of the projects it is a member of. ``domain`` is the
# account name IAM clients send next to the user name.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    # "scrypt$<log2 n>$<r>$<p>$<salt>$<hash>": the parameters travel with the
    # hash, so raising the work factor later leaves existing hashes verifiable.
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("domain", "name", name="uq_users_domain_name"),
)

user_projects = sa.Table(
    "user_projects",
    metadata,
    sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

# The secret key is kept as issued: SDK-HMAC-SHA256 uses it directly as the
# HMAC key, so the verifier needs it back (docs/security.md, "Access keys").
access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("ak", sa.String(32), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("sk", sa.String(512), nullable=False),  # sealed (store/secretbox.py)
    sa.Column("create_time", sa.BigInteger, nullable=False),
)
sa.Index("ix_access_keys_user_id", access_keys.c.user_id)

tokens = sa.Table(
    "tokens",
    metadata,
    # Only a SHA-256 of the token is stored: a leaked database leaks no token.
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("create_time", sa.BigInteger, nullable=False),  # also the token's issued_at
    sa.Column("expires_at", sa.BigInteger, nullable=False, server_default="0"),  # 0: never
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    # NULL for the bootstrap token of credentials.json, which belongs to no user.
    sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_tokens_user_id"),
        nullable=True,
    ),
    sa.Column("methods", sa.String(64), nullable=False, server_default=""),  # comma list
)
# Pruning long-expired tokens walks this index.
sa.Index("ix_tokens_expires_at", tokens.c.expires_at)

# Short-lived keys for the object endpoint: issued for a token (expiring with it)
# or for a run (until revoked when the run ends). Like access keys, the secret
# is kept as issued: SigV4 derives its signing key from it.
temporary_keys = sa.Table(
    "temporary_keys",
    metadata,
    sa.Column("ak", sa.String(32), primary_key=True),
    sa.Column("sk", sa.String(512), nullable=False),  # sealed (store/secretbox.py)
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, server_default="0"),  # 0: until revoked
    # The token it was issued for: revoking the token revokes the key.
    sa.Column("token_sha256", sa.String(64), nullable=True),
    sa.Column("version_id", sa.BigInteger, nullable=True),  # the run it was issued for
)
sa.Index("ix_temporary_keys_version_id", temporary_keys.c.version_id)
sa.Index("ix_temporary_keys_expires_at", temporary_keys.c.expires_at)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("workspace_id", sa.String(64), nullable=False),
    sa.Column("job_name", sa.String(64), nullable=False),
    sa.Column("job_desc", sa.String(256), nullable=False, server_default=""),
    sa.Column("resource_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    # Highest version number handed out; never decreases, so names are never reused.
    sa.Column("version_counter", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version_count", sa.Integer, nullable=False, server_default="0"),
    # The latest version's id, status and timing, kept here so that the job
    # list filters and sorts on indexed columns of one table.
    sa.Column("latest_version_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.Integer, nullable=False, server_default="0"),
    sa.Column("start_time", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("duration", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("project_id", "job_name", name="uq_jobs_project_name"),
    sqlite_autoincrement=True,
)
sa.Index("ix_jobs_ws_name", jobs.c.project_id, jobs.c.workspace_id, jobs.c.job_name)
sa.Index("ix_jobs_ws_create", jobs.c.project_id, jobs.c.workspace_id, jobs.c.create_time)
sa.Index("ix_jobs_ws_status", jobs.c.project_id, jobs.c.workspace_id, jobs.c.status)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column(
        "job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("pre_version_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("duration", sa.BigInteger, nullable=False, server_default="0"),
    # engine and spec as they were when the version was created
    sa.Column("engine_id", sa.BigInteger, nullable=False),
    sa.Column("engine_type", sa.Integer, nullable=False),
    sa.Column("engine_name", sa.String(64), nullable=False),
    sa.Column("engine_version", sa.String(64), nullable=False),
    sa.Column("spec_id", sa.BigInteger, nullable=False),
    sa.Column("spec_code", sa.String(64), nullable=False),
    sa.Column("core", sa.String(16), nullable=False),
    sa.Column("cpu", sa.String(16), nullable=False),
    sa.Column("gpu_num", sa.Integer, nullable=False),
    sa.Column("gpu_type", sa.String(64), nullable=False),
    sa.Column("pool_id", sa.String(64), nullable=False),
    sa.Column("pool_name", sa.String(64), nullable=False),
    sa.Column("worker_server_num", sa.Integer, nullable=False),
    sa.Column("app_url", sa.String(1024), nullable=False),
    sa.Column("boot_file_url", sa.String(1024), nullable=False),
    sa.Column("data_url", sa.String(1024), nullable=False),
    sa.Column("train_url", sa.String(1024), nullable=False),
    sa.Column("log_url", sa.String(1024), nullable=False),
    sa.Column("dataset_id", sa.String(64), nullable=False),
    sa.Column("dataset_version_id", sa.String(64), nullable=False),
    sa.Column("dataset_name", sa.String(64), nullable=False),
    sa.Column("dataset_version_name", sa.String(64), nullable=False),
    sa.Column("data_source", sa.Text, nullable=False),
    sa.Column("parameter", sa.Text, nullable=False),
    sa.Column("volumes", sa.Text, nullable=False),
    sa.Column("model_id", sa.BigInteger, nullable=False),
    sa.Column("user_image_url", sa.String(1024), nullable=False),
    sa.Column("user_command", sa.String(4096), nullable=False),
    sa.Column("nas_mount_path", sa.String(1024), nullable=False),
    sa.Column("nas_share_addr", sa.String(1024), nullable=False),
    sa.Column("nas_type", sa.String(16), nullable=False),
    sa.Column("model_metric_list", sa.Text, nullable=False),
    sa.Column("system_metric_list", sa.Text, nullable=False),
    sa.Column("failure_reason", sa.String(1024), nullable=False, server_default=""),
    # The version's fields that never change after creation, as one JSON object
    # rendered once: a listing splices it instead of rebuilding ~40 fields a row.
    sa.Column("snapshot", sa.Text, nullable=False, server_default=""),
    # The server that runs the version; another takes it over when this one dies.
    sa.Column("owner", sa.String(32), nullable=False, server_default=""),
    # What the version ran: the Merkle digest of its staged code (a re-run is
    # created with its original's, and stages that snapshot), and the files
    # of its data input as staged (JSON list of path, size, ETag or SHA-256).
    sa.Column("code_digest", sa.String(64), nullable=False, server_default=""),
    sa.Column("data_manifest", sa.Text, nullable=False, server_default="[]"),
    sa.UniqueConstraint("job_id", "number", name="uq_versions_job_number"),
    sqlite_autoincrement=True,
)
# Newest-first pages of one job walk this index and touch only the page's rows.
sa.Index("ix_versions_job_id", versions.c.job_id, versions.c.id)
# A page's (id, status) pairs from the index alone (id is the rowid on SQLite).
sa.Index("ix_versions_job_number_status", versions.c.job_id, versions.c.number, versions.c.status)
sa.Index("ix_versions_status", versions.c.status)
sa.Index("ix_versions_owner_status", versions.c.owner, versions.c.status)

# The servers sharing this database, each with a heartbeat; a server whose
# heartbeat stops is dead, and its versions are taken over.
servers = sa.Table(
    "servers",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("pid_create_time", sa.Float, nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("heartbeat_at", sa.BigInteger, nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("dataset_name", sa.String(64), nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("project_id", "dataset_name", name="uq_datasets_project_name"),
)

# A dataset version names the object-store folder that holds its data.
dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "dataset_id",
        sa.String(36),
        sa.ForeignKey("datasets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version_name", sa.String(64), nullable=False),
    sa.Column("data_url", sa.String(1024), nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("dataset_id", "version_name", name="uq_dataset_versions_name"),
)

# Training-job configurations (C1-C5): a named version config of a project,
# kept as the JSON object of its fields.
training_job_configs = sa.Table(
    "training_job_configs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("config_name", sa.String(64), nullable=False),
    sa.Column("config_desc", sa.String(256), nullable=False, server_default=""),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.UniqueConstraint("project_id", "config_name", name="uq_configs_project_name"),
    sqlite_autoincrement=True,
)
sa.Index(
    "ix_configs_project_create",
    training_job_configs.c.project_id,
    training_job_configs.c.create_time,
)

# Visualization jobs (V1-V7): a TensorBoard over a train_url, run by ``owner``.
visualization_jobs = sa.Table(
    "visualization_jobs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("job_name", sa.String(20), nullable=False),
    sa.Column("job_desc", sa.String(256), nullable=False, server_default=""),
    sa.Column("job_type", sa.String(16), nullable=False),
    sa.Column("train_url", sa.String(1024), nullable=False),
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("duration", sa.BigInteger, nullable=False, server_default="0"),
    # auto-stop: hours of running time (0: none), and the moment it falls due
    sa.Column("schedule_hours", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stop_at", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("owner", sa.String(32), nullable=False, server_default=""),
    sa.Column("port", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failure_reason", sa.String(1024), nullable=False, server_default=""),
    sa.UniqueConstraint("project_id", "job_name", name="uq_viz_project_name"),
    sqlite_autoincrement=True,
)
sa.Index("ix_viz_status", visualization_jobs.c.status)
