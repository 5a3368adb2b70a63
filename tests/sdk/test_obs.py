"""``session.obs``: upload and download files and folders, as the legacy OBS helper did."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from conftest import Server
from trainjobs.sdk import ModelArtsError, Session


def bucket() -> str:
    return f"obs-{uuid.uuid4().hex[:8]}"


def test_upload_file_lands_under_the_folder_by_name(
    session: Session, server: Server, tmp_path: Path
) -> None:
    local = tmp_path / "a.txt"
    local.write_text("hello")
    b = bucket()
    assert session.obs.upload_file(str(local), f"obs://{b}/dir1/") == f"/{b}/dir1/a.txt"
    assert (server.obs_dir / b / "dir1" / "a.txt").read_text() == "hello"


def test_upload_dir_keeps_the_folders_name(
    session: Session, server: Server, tmp_path: Path
) -> None:
    local = tmp_path / "ma-user"
    (local / "sub").mkdir(parents=True)
    (local / "top.txt").write_text("1")
    (local / "sub" / "deep.txt").write_text("2")
    (local / "empty").mkdir()
    b = bucket()
    assert session.obs.upload_dir(local, f"obs://{b}/dir1/") == f"/{b}/dir1/ma-user/"
    root = server.obs_dir / b / "dir1" / "ma-user"
    assert (root / "top.txt").read_text() == "1" and (root / "sub" / "deep.txt").read_text() == "2"
    assert not (root / "empty").exists()  # empty folders are not created


def test_download_file_and_dir(session: Session, tmp_path: Path) -> None:
    local = tmp_path / "src" / "model"
    (local / "parts").mkdir(parents=True)
    (local / "weights.bin").write_bytes(b"\x00\x01")
    (local / "parts" / "p.txt").write_text("part")
    b = bucket()
    session.obs.upload_dir(local, f"/{b}/out/")  # the bare /bucket/ form works too
    got = session.obs.download_file(f"obs://{b}/out/model/weights.bin", tmp_path / "dl")
    assert Path(got) == tmp_path / "dl" / "weights.bin"
    assert Path(got).read_bytes() == b"\x00\x01"
    folder = session.obs.download_dir(f"s3://{b}/out/model/", str(tmp_path / "dl2") + "/")
    assert Path(folder) == tmp_path / "dl2" / "model"
    assert (Path(folder) / "parts" / "p.txt").read_text() == "part"
    assert (Path(folder) / "weights.bin").read_bytes() == b"\x00\x01"


def test_obs_failures_are_model_arts_errors(session: Session, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    cases = [
        (lambda: session.obs.upload_file(tmp_path / "missing.txt", "obs://b/x/"), "client_error"),
        (lambda: session.obs.upload_dir(tmp_path / "f.txt", "obs://b/x/"), "client_error"),
        (lambda: session.obs.upload_file(tmp_path / "f.txt", "relative/dir/"), "2791"),
        (lambda: session.obs.upload_file(tmp_path / "f.txt", "obs://b/../x/"), "2791"),
        (lambda: session.obs.download_file(f"obs://{bucket()}/none.txt", tmp_path), "not_found"),
        (lambda: session.obs.download_dir(f"obs://{bucket()}/none/", tmp_path), "not_found"),
    ]
    for call, code in cases:
        with pytest.raises(ModelArtsError) as caught:
            call()
        assert caught.value.error_code.endswith(code), caught.value
        assert caught.value.http_status == 0
