"""``trainjobs serve`` refuses a Ray executor it cannot run (no Ray cluster needed),
and only for what is missing: not for storage the nodes do not share."""

from __future__ import annotations

import importlib.metadata
import socket
from pathlib import Path

import httpx
import pytest
from raytest import serve_with_flags


def _nothing_answers() -> str:
    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens
        closed.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{closed.getsockname()[1]}"


def _expected_refusal(address: str) -> str:
    # Without the ray package installed that is what serve reports first.
    return (
        f"no Ray cluster answers at {address}"
        if _ray_installed()
        else "the Ray executor needs the ray package"
    )


@pytest.mark.parametrize("storage", [(), ("--no-shared-storage",), ("--shared-storage",)])
def test_serve_needs_no_shared_storage_for_ray(tmp_path: Path, storage: tuple[str, ...]) -> None:
    address = _nothing_answers()
    flags = ("--executor", "ray", "--ray-address", address, *storage)
    proc, port = serve_with_flags(tmp_path / "data", *flags)
    _out, err = proc.communicate(timeout=60)
    # Refused for the cluster that is not there, never for the storage.
    assert proc.returncode == 2 and _expected_refusal(address) in err.decode()
    assert "shared" not in err.decode() and "Traceback" not in err.decode()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)


def test_serve_refuses_an_unknown_executor(tmp_path: Path) -> None:
    proc, _port = serve_with_flags(tmp_path / "data", "--executor", "kubernetes")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown executor 'kubernetes'" in err.decode()


def test_serve_refuses_ray_from_the_environment_too(tmp_path: Path) -> None:
    address = _nothing_answers()
    env = {"TRAINJOBS_EXECUTOR": "ray", "TRAINJOBS_RAY_ADDRESS": address}
    proc, _port = serve_with_flags(tmp_path / "data", env=env)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and _expected_refusal(address) in err.decode()


def _ray_installed() -> bool:
    # by its distribution: this test folder, named ray, shadows the module name
    try:
        importlib.metadata.distribution("ray")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True
