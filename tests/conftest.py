"""Fixtures: a real ``trainjobs serve`` on a free loopback port, and helpers to drive it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from trainjobs.objectstore import ObjectStore, parse_obs_path

ROOT = Path(__file__).resolve().parent.parent
TRAINJOBS = [sys.executable, "-m", "trainjobs"]
FINAL = {3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 20, 21}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# With TRAINJOBS_REQUIRE_ALL=1 (as CI sets) a run whose tests were all skipped
# fails: a suite that needs PostgreSQL or a Ray cluster and found neither must
# not pass as if it had run.
REQUIRE_ALL = os.environ.get("TRAINJOBS_REQUIRE_ALL", "") not in ("", "0")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not REQUIRE_ALL or reporter is None or exitstatus != 0:
        return
    ran = sum(len(reporter.stats.get(k, [])) for k in ("passed", "failed", "error", "xfailed"))
    skipped = len(reporter.stats.get("skipped", []))
    if skipped and not ran:
        reporter.write_line(
            f"error: TRAINJOBS_REQUIRE_ALL is set and all {skipped} test(s) were skipped "
            "(is the database or cluster they need there?)",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Set to a PostgreSQL server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
# to run every server of the suite on its own fresh database there instead of SQLite.
TEST_POSTGRES = os.environ.get("TRAINJOBS_TEST_POSTGRES_URL", "")


def _admin(sql: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(TEST_POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


class Server:
    """A running service with a client that carries its token."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.data_dir = data_dir
        self.cwd = cwd
        self.database_url = f"sqlite:///{data_dir.resolve() / 'trainjobs.db'}"
        self._pg_database = ""
        if TEST_POSTGRES and "TRAINJOBS_DATABASE_URL" not in (env or {}):
            self._pg_database = f"tj_{uuid.uuid4().hex[:12]}"
            _admin(f"CREATE DATABASE {self._pg_database}")
            self.database_url = TEST_POSTGRES.rsplit("/", 1)[0] + "/" + self._pg_database
            env = {**(env or {}), "TRAINJOBS_DATABASE_URL": self.database_url}
        self.env = {
            **os.environ,
            "TRAINJOBS_STOP_GRACE_S": "3",
            "TRAINJOBS_SYNC_PERIOD_S": "1",
            # Room for the suite's many short runs at once; the queueing tests
            # set the machine's real capacity.
            "TRAINJOBS_CAPACITY_CORES": "64",
            "TRAINJOBS_CAPACITY_MEMORY_GIB": "4096",
            # The suite's many deliberate bad logins from one address; the
            # throttle's own tests set it low.
            "TRAINJOBS_LOGIN_MAX_FAILURES": "1000",
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.client = httpx.Client(timeout=30)

    def start(self) -> Server:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            self.port = free_port()
            self.log = open(self.data_dir.parent / f"serve-{self.port}.log", "wb")  # noqa: SIM115
            data_arg = self.data_dir.relative_to(self.cwd) if self.cwd else self.data_dir
            self.proc = subprocess.Popen(
                [
                    *TRAINJOBS,
                    "serve",
                    "--port",
                    str(self.port),
                    "--s3-port",
                    "0",
                    "--data-dir",
                    str(data_arg),
                ],
                env=self.env,
                cwd=self.cwd,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            if self._wait_healthy():
                break
            self.stop()
        else:
            raise RuntimeError("the server did not become healthy")
        creds = json.loads((self.data_dir / "credentials.json").read_text())
        self.project_id = creds["project_id"]
        self.token = creds["token"]
        # The object endpoint listens on a port of its own, picked by the server.
        self.obs_endpoint: str = creds["obs_endpoint"]
        self.base = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(
            base_url=self.base, headers={"X-Auth-Token": self.token}, timeout=30
        )
        return self

    def _wait_healthy(self, timeout_s: float = 30) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.client.close()

    def drop(self) -> None:
        """Remove the server's PostgreSQL database, when it has one."""
        if self._pg_database:
            _admin(f"DROP DATABASE IF EXISTS {self._pg_database} WITH (FORCE)")

    # -- helpers --------------------------------------------------------------

    @property
    def v1(self) -> str:
        return f"/v1/{self.project_id}"

    def store(self) -> ObjectStore:
        return ObjectStore.from_url(str(self.data_dir / "obs")).for_project(self.project_id)

    @property
    def obs_dir(self) -> Path:
        """Where this project's buckets lie on disk."""
        return self.data_dir / "obs" / self.project_id

    def upload(self, local: Path, obs: str) -> None:
        self.store().upload(local, parse_obs_path(obs))

    def upload_script(self, source: str, name: str = "train.py") -> tuple[str, str]:
        """Put a one-file code folder in the store; return (app_url, boot_file_url)."""
        bucket = f"code-{uuid.uuid4().hex[:8]}"
        folder = self.data_dir.parent / bucket
        folder.mkdir()
        (folder / name).write_text(source)
        self.upload(folder, f"/{bucket}/app")
        return f"/{bucket}/app/", f"/{bucket}/app/{name}"

    def create_job(self, source: str, name: str | None = None, **config: Any) -> dict[str, Any]:
        app_url, boot = self.upload_script(source)
        body = {
            "job_name": name or unique_name(),
            "config": {
                "worker_server_num": 1,
                "app_url": app_url,
                "boot_file_url": boot,
                "spec_id": 1,
                **config,
            },
        }
        response = self.client.post(f"{self.v1}/training-jobs", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def get_ok(self, path: str, **query: Any) -> dict[str, Any]:
        """The body of a GET of ``/v1/{project}path`` that succeeded."""
        r = self.client.get(self.v1 + path, params=query)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["is_success"] is True
        return body

    def version(self, job_id: int, version_id: int) -> dict[str, Any]:
        response = self.client.get(f"{self.v1}/training-jobs/{job_id}/versions/{version_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def wait_status(
        self, job_id: int, version_id: int, statuses: set[int] | None = None, timeout_s: float = 60
    ) -> dict[str, Any]:
        """Poll until the version reaches one of ``statuses`` (default: any final one)."""
        wanted = statuses or FINAL
        deadline = time.monotonic() + timeout_s
        while True:
            version = self.version(job_id, version_id)
            if version["status"] in wanted:
                return version
            if time.monotonic() > deadline:
                raise AssertionError(f"version stayed in status {version['status']}: {version}")
            time.sleep(0.1)

    def host_pids(self, version_id: int, inner: list[int]) -> list[int]:
        """The host pids of a run's processes that know themselves as ``inner``.

        A sandboxed worker has its own PID namespace: the pid a script reads
        with os.getpid() is not the host's. /proc's NSpid line gives both.
        """
        state = self.data_dir / "runs" / str(version_id) / "workers"
        found: dict[int, int] = {}
        for pid_file in state.glob("*.pid"):
            parent = psutil.Process(json.loads(pid_file.read_text())["pid"])
            for proc in [parent, *parent.children(recursive=True)]:
                try:
                    with open(f"/proc/{proc.pid}/status") as f:
                        line = next(x for x in f if x.startswith("NSpid:"))
                except (OSError, StopIteration):
                    continue
                found.setdefault(int(line.split()[-1]), proc.pid)
        return [found[p] for p in inner]

    def log_text(self, job_id: int, version_id: int) -> str:
        logs = self.data_dir / "runs" / str(version_id) / "logs"
        return "".join(p.read_text() for p in sorted(logs.glob("*")))


def unique_name() -> str:
    return f"job-{uuid.uuid4().hex[:10]}"


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["is_success"] is False
    assert body["error_code"] == code, body
    assert body["error_message"] and body["error_msg"] == body["error_message"]
    assert "Traceback" not in body["error_message"]
    return body


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One service shared by the tests that need no fresh data dir."""
    root = tmp_path_factory.mktemp("shared")
    srv = Server(root / "data").start()
    yield srv
    srv.stop()
    srv.drop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A service with a data dir of its own."""
    srv = Server(tmp_path / "data").start()
    yield srv
    srv.stop()
    srv.drop()


# -- shared by test_errors.py and test_errors_paths.py -------------------------------


@pytest.fixture(scope="module")
def log_start(server: Server) -> int:
    """Where the shared service's log stood when the module that asks began (the error
    modules ask from their first test, so their last test sees all they caused)."""
    return (server.data_dir.parent / f"serve-{server.port}.log").stat().st_size


def assert_no_fault_logged_since(server: Server, start: int) -> None:
    """The shared service's log from ``start`` shows no unhandled exception."""
    log = server.data_dir.parent / f"serve-{server.port}.log"
    text = log.read_bytes()[start:].decode(errors="replace")
    assert "unexpected fault" not in text
    assert "Traceback" not in text, text[-3000:]


@pytest.fixture(scope="module")
def code(server: Server) -> tuple[str, str]:
    """(app_url, boot_file_url) of a code folder in the store."""
    return server.upload_script("pass\n")


@pytest.fixture(scope="module")
def done(server: Server) -> dict[str, Any]:
    """A job whose only version has COMPLETED."""
    created = server.create_job("pass\n")
    server.wait_status(created["job_id"], created["version_id"])
    return created


@pytest.fixture(scope="module")
def other(server: Server) -> dict[str, Any]:
    """A second job, to reach one job's version through another job's path."""
    created = server.create_job("pass\n")
    server.wait_status(created["job_id"], created["version_id"])
    return created
