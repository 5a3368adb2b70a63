"""``trainjobs serve`` refuses a Ray executor it cannot run: no Ray cluster needed."""

from __future__ import annotations

import importlib.metadata
import socket
from pathlib import Path

import httpx
import pytest
from raytest import serve_with_flags

ADDRESS = "127.0.0.1:6380"  # never dialled: the refusal comes first


@pytest.mark.parametrize(
    "flags",
    [
        ("--executor", "ray", "--ray-address", ADDRESS),
        ("--executor", "ray"),
        ("--executor", "ray", "--ray-address", ADDRESS, "--no-shared-storage"),
    ],
)
def test_serve_refuses_ray_unless_the_storage_is_shared(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    proc, port = serve_with_flags(tmp_path / "data", *flags)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--shared-storage" in err.decode() and "Traceback" not in err.decode()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)


def test_serve_refuses_an_unknown_executor(tmp_path: Path) -> None:
    proc, _port = serve_with_flags(tmp_path / "data", "--executor", "kubernetes")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown executor 'kubernetes'" in err.decode()


def test_serve_refuses_ray_from_the_environment_too(tmp_path: Path) -> None:
    env = {"TRAINJOBS_EXECUTOR": "ray", "TRAINJOBS_RAY_ADDRESS": ADDRESS}
    proc, _port = serve_with_flags(tmp_path / "data", env=env)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "TRAINJOBS_SHARED_STORAGE=1" in err.decode()


def _ray_installed() -> bool:
    # by its distribution: this test folder, named ray, shadows the module name
    try:
        importlib.metadata.distribution("ray")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_serve_refuses_a_ray_address_where_nothing_answers(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
    flags = ("--executor", "ray", "--ray-address", address, "--shared-storage")
    proc, _port = serve_with_flags(tmp_path / "data", *flags)
    _out, err = proc.communicate(timeout=60)
    # Without the ray package installed that is what serve reports first.
    expected = (
        f"no Ray cluster answers at {address}"
        if _ray_installed()
        else "the Ray executor needs the ray package"
    )
    assert proc.returncode == 2 and expected in err.decode()
