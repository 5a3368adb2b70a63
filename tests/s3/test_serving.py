"""Where the endpoint listens: the API's port + 1 by default, and a clear refusal when
that port is taken."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import httpx

from conftest import TRAINJOBS


def _two_free_ports() -> tuple[int, socket.socket]:
    """A port P with P + 1 held by the returned listening socket."""
    for _ in range(50):
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1] - 1
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            held.close()
            continue
        finally:
            probe.close()
        held.listen(1)
        return port, held
    raise RuntimeError("no pair of adjacent free ports")


def test_a_taken_endpoint_port_is_refused_with_what_to_do(tmp_path: Path) -> None:
    port, held = _two_free_ports()
    try:
        result = subprocess.run(
            [*TRAINJOBS, "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        held.close()
    assert result.returncode == 2
    assert f"127.0.0.1:{port + 1}" in result.stderr and "--s3-port" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_endpoint_listens_on_the_next_port_by_default(tmp_path: Path) -> None:
    port, held = _two_free_ports()
    held.close()
    data = tmp_path / "d"
    proc = subprocess.Popen(
        [*TRAINJOBS, "serve", "--port", str(port), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        creds = json.loads((data / "credentials.json").read_text())
        assert creds["obs_endpoint"] == f"http://127.0.0.1:{port + 1}"
        anonymous = httpx.get(creds["obs_endpoint"] + "/", timeout=10)
        assert anonymous.status_code == 403 and b"<Code>AccessDenied</Code>" in anonymous.content
    finally:
        proc.terminate()
        proc.wait(timeout=30)
