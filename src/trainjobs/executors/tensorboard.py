"""A TensorBoard process on a loopback port, serving one folder of event files.

TensorBoard serves under ``path_prefix``, the path the trainjobs server proxies,
so the links in its pages point back through the proxy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from trainjobs.executors import processes


class TensorBoard:
    def __init__(self, logdir: Path, port: int, path_prefix: str, log_path: Path) -> None:
        self.logdir = logdir
        self.port = port
        self.path_prefix = path_prefix.rstrip("/")
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path_prefix}"

    def start(self) -> None:
        self.logdir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "tensorboard.main",
            f"--logdir={self.logdir}",
            "--host=127.0.0.1",
            f"--port={self.port}",
            f"--path_prefix={self.path_prefix}",
            "--reload_interval=2",
            "--load_fast=false",  # the Rust data server is an optional download
        ]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.logdir,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # its own group: stopping it reaches its children
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout_s: float, cancelled: object = None) -> bool:
        """Whether TensorBoard answers its data API within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline and self.alive():
                if cancelled is not None and getattr(cancelled, "is_set")():  # noqa: B009
                    return False
                try:
                    if client.get(f"{self.url}/data/environment").status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
        return False

    def stop(self, grace_s: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            processes.terminate_trees([self.proc.pid], grace_s)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
