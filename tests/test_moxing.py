"""moxing, the ModelArts file library of runs, against a real S3-protocol server.

Every operation on ``obs://`` paths is compared with the same operation on
local files, over random trees (hypothesis). The endpoint and its key come
from the ``object_target`` fixture, in this order: the S3-compatible endpoint
given by ``MOXING_TEST_ENDPOINT``, ``MOXING_TEST_ACCESS_KEY``,
``MOXING_TEST_SECRET_KEY`` and ``MOXING_TEST_BUCKET`` (an existing bucket);
the test server's own object endpoint, when it advertises one
(``obs_endpoint`` in credentials.json), with the key of a user made for the
tests; moto's S3 server on loopback otherwise.
"""

from __future__ import annotations

import builtins
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TRAINJOBS, Server, free_port
from trainjobs.runtime import RUN_PYTHONPATH

sys.path.insert(0, str(RUN_PYTHONPATH))
import moxing as mox  # noqa: E402
from moxing.framework.file import _local  # noqa: E402


@dataclass(frozen=True)
class ObjectTarget:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str


def _with_bucket(endpoint: str, access_key: str, secret_key: str) -> ObjectTarget:
    import boto3

    bucket = f"mox-{uuid.uuid4().hex[:10]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    return ObjectTarget(endpoint, access_key, secret_key, bucket)


@pytest.fixture(scope="module")
def object_target(server: Server) -> Iterator[ObjectTarget]:
    if os.environ.get("MOXING_TEST_ENDPOINT"):
        yield ObjectTarget(
            os.environ["MOXING_TEST_ENDPOINT"],
            os.environ["MOXING_TEST_ACCESS_KEY"],
            os.environ["MOXING_TEST_SECRET_KEY"],
            os.environ["MOXING_TEST_BUCKET"],
        )
        return
    creds = json.loads((server.data_dir / "credentials.json").read_text())
    if creds.get("obs_endpoint"):
        made = subprocess.run(
            [*TRAINJOBS, "users", "create", f"mox-{uuid.uuid4().hex[:8]}", "--with-aksk",
             "--json", "--data-dir", str(server.data_dir)],
            env=server.env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        user = json.loads(made.stdout)
        yield _with_bucket(creds["obs_endpoint"], user["access_key"], user["secret_key"])
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    yield _with_bucket(f"http://127.0.0.1:{port}", "testing", "testing")
    moto.stop()


@pytest.fixture(scope="module")
def obs(object_target: ObjectTarget) -> str:
    """A fresh folder of the target's bucket, with moxing pointed at the target."""
    mox.file.set_auth(
        ak=object_target.access_key, sk=object_target.secret_key, server=object_target.endpoint
    )
    return f"obs://{object_target.bucket}/moxing-{uuid.uuid4().hex[:8]}"


def fresh(obs: str) -> str:
    return f"{obs}/{uuid.uuid4().hex[:8]}"


# -- random trees ----------------------------------------------------------------

NAME = st.text(alphabet=st.sampled_from("abcXYZ019_-é数"), min_size=1, max_size=6).filter(
    lambda s: not s.startswith((".", "-"))
)
PATH = st.lists(NAME, min_size=1, max_size=3).map("/".join)


def _consistent(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop paths that a file of the tree would have to be a folder for."""
    return {
        p: data
        for p, data in files.items()
        if not any(other.startswith(p + "/") for other in files)
    }


TREES = st.dictionaries(PATH, st.binary(max_size=300), min_size=1, max_size=6).map(_consistent)


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def rel_walk(top: str) -> list[tuple[str, list[str], list[str]]]:
    """mox.file.walk with folder paths made relative to top, for comparison."""
    out = []
    for dirpath, dirnames, filenames in mox.file.walk(top):
        rel = dirpath[len(top.rstrip("/")) :].strip("/")
        out.append((rel, sorted(dirnames), sorted(filenames)))
    return sorted(out)


TREE_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@TREE_SETTINGS
@given(files=TREES)
def test_object_paths_behave_as_local_files(
    obs: str, tmp_path: Path, files: dict[str, bytes]
) -> None:
    local = tmp_path / uuid.uuid4().hex
    write_tree(local, files)
    remote = fresh(obs)

    mox.file.copy_parallel(str(local), remote)

    for recursive in (False, True):
        assert mox.file.list_directory(remote, recursive=recursive) == mox.file.list_directory(
            str(local), recursive=recursive
        )
    assert rel_walk(remote) == rel_walk(str(local))
    assert (
        mox.file.get_size(remote, recursive=True)
        == mox.file.get_size(str(local), recursive=True)
        == sum(len(d) for d in files.values())
    )
    for pattern in ("*", "*/*", "a*", "*/?", "[ab]*/*"):
        remote_hits = [h[len(remote) + 1 :] for h in mox.file.glob(f"{remote}/{pattern}")]
        local_hits = [os.path.relpath(h, local) for h in mox.file.glob(f"{local}/{pattern}")]
        assert remote_hits == local_hits, pattern
    for rel, data in files.items():
        r, lo = f"{remote}/{rel}", str(local / rel)
        assert mox.file.exists(r) and mox.file.exists(lo)
        assert not mox.file.is_directory(r) and not mox.file.is_directory(lo)
        assert mox.file.read(r, binary=True) == mox.file.read(lo, binary=True) == data
        assert mox.file.get_size(r) == mox.file.get_size(lo) == len(data)
        st_r, st_l = mox.file.stat(r), mox.file.stat(lo)
        assert (st_r.length, st_r.is_directory) == (st_l.length, st_l.is_directory)
        parent = rel.rpartition("/")[0]
        if parent:
            assert (
                mox.file.is_directory(f"{remote}/{parent}")
                == mox.file.is_directory(str(local / parent))
                is True
            )
            assert mox.file.stat(f"{remote}/{parent}").is_directory
    assert not mox.file.exists(f"{remote}/missing") and not mox.file.exists(str(local / "missing"))

    # Back down: the same bytes, into a folder that already holds a file of its own.
    back = tmp_path / uuid.uuid4().hex
    back.mkdir()
    (back / "kept.bin").write_bytes(b"kept")
    mox.file.copy_parallel(remote, str(back), threads=4)
    assert {str(p.relative_to(back)): p.read_bytes() for p in back.rglob("*") if p.is_file()} == {
        **files,
        "kept.bin": b"kept",
    }

    # Change one file on both sides the same ways, and compare again.
    first = sorted(files)[0]
    mox.file.append(f"{remote}/{first}", b"+more")
    mox.file.append(str(local / first), b"+more")
    mox.file.copy(f"{remote}/{first}", f"{remote}/copied/{first}")
    mox.file.copy(str(local / first), str(local / "copied" / first))
    mox.file.rename(f"{remote}/copied", f"{remote}/moved")
    mox.file.rename(str(local / "copied"), str(local / "moved"))
    mox.file.remove(f"{remote}/{first}")
    mox.file.remove(str(local / first))
    # A folder of an object store lives through what lies in it: the local side
    # loses the folders that removing the file emptied, as the store did.
    for dirpath, _dirs, _files in os.walk(local, topdown=False):
        if dirpath != str(local) and not os.listdir(dirpath):
            os.rmdir(dirpath)
    assert mox.file.list_directory(remote, recursive=True) == mox.file.list_directory(
        str(local), recursive=True
    )
    moved = f"moved/{first}"
    assert mox.file.read(f"{remote}/{moved}", binary=True) == files[first] + b"+more"

    mox.file.remove(remote, recursive=True)
    assert not mox.file.exists(remote)


def test_text_files_and_file_objects(obs: str, tmp_path: Path) -> None:
    remote = fresh(obs)
    mox.file.write(f"{remote}/notes.txt", "zeile eins\nline two ☃\n")
    assert mox.file.read(f"{remote}/notes.txt") == "zeile eins\nline two ☃\n"
    mox.file.append(f"{remote}/notes.txt", "three\n")
    with mox.file.File(f"{remote}/notes.txt", "r") as f:
        assert [line for line in f] == ["zeile eins\n", "line two ☃\n", "three\n"]
    with mox.file.File(f"{remote}/model.bin", "wb") as f:
        f.write(b"\x00\x01")
        f.write(b"\xff")
        assert f.size() == 3
    with mox.file.File(f"{remote}/model.bin", "rb") as f:
        assert f.read(1) == b"\x00"
        f.seek(2)
        assert f.read() == b"\xff"
    with mox.file.File(f"{remote}/model.bin", "ab") as f:
        f.write(b"!")
    assert mox.file.read(f"{remote}/model.bin", binary=True) == b"\x00\x01\xff!"
    with pytest.raises(FileNotFoundError):
        mox.file.File(f"{remote}/nothing.txt", "r")
    with pytest.raises(IsADirectoryError):
        mox.file.File(remote, "r")


def test_errors_are_those_of_local_files(obs: str, tmp_path: Path) -> None:
    remote = fresh(obs)
    local = tmp_path / "l"
    local.mkdir()
    for root in (remote, str(local)):
        mox.file.write(f"{root}/d/f.txt", "x")
        with pytest.raises(FileNotFoundError):
            mox.file.copy_parallel(f"{root}/absent", str(tmp_path / "dst"))
        with pytest.raises(NotADirectoryError):
            mox.file.copy_parallel(f"{root}/d/f.txt", str(tmp_path / "dst"))
        with pytest.raises(IsADirectoryError):
            mox.file.remove(f"{root}/d")
        with pytest.raises(IsADirectoryError):
            mox.file.copy(f"{root}/d", f"{root}/e")
        with pytest.raises(FileNotFoundError):
            mox.file.remove(f"{root}/absent")
        with pytest.raises(FileNotFoundError):
            mox.file.read(f"{root}/absent")
        with pytest.raises(FileNotFoundError):
            mox.file.list_directory(f"{root}/absent")
        with pytest.raises(NotADirectoryError):
            mox.file.list_directory(f"{root}/d/f.txt")
        with pytest.raises(FileNotFoundError):
            mox.file.stat(f"{root}/absent")
        with pytest.raises(FileNotFoundError):
            mox.file.get_size(f"{root}/absent")
        with pytest.raises(FileExistsError):
            mox.file.mk_dir(f"{root}/d")
        with pytest.raises(FileNotFoundError):
            mox.file.mk_dir(f"{root}/no/parent")
        mox.file.mk_dir(f"{root}/empty")
        mox.file.make_dirs(f"{root}/deep/er/st")
        mox.file.make_dirs(f"{root}/deep/er/st")  # exists: fine
        assert mox.file.is_directory(f"{root}/empty")
        assert mox.file.list_directory(f"{root}/empty") == []
        assert mox.file.get_size(f"{root}/d") == 0
        assert mox.file.list_directory(root) == ["d", "deep", "empty"]
        assert mox.file.glob(f"{root}/d/*.txt") == [f"{root}/d/f.txt"]
        assert list(mox.file.walk(f"{root}/absent")) == []
        mox.file.remove(f"{root}/d", recursive=True)
        assert not mox.file.exists(f"{root}/d")
    with pytest.raises(FileNotFoundError):
        mox.file.copy_parallel("", str(tmp_path / "dst"))


def test_copy_parallel_file_list_threads_and_empty_folders(obs: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_tree(src, {f"part{i:03d}/x.bin": os.urandom(64) for i in range(20)})
    (src / "empty").mkdir()
    remote = fresh(obs)
    mox.file.copy_parallel(str(src), remote, threads=8)
    assert mox.file.is_directory(f"{remote}/empty")
    assert len(mox.file.list_directory(remote)) == 21
    picked = tmp_path / "picked"
    mox.file.copy_parallel(remote, str(picked), file_list=["part001/x.bin", "part007/x.bin"])
    assert sorted(str(p.relative_to(picked)) for p in picked.rglob("*.bin")) == [
        "part001/x.bin",
        "part007/x.bin",
    ]
    with pytest.raises(FileNotFoundError):
        mox.file.copy_parallel(remote, str(picked), file_list=["part999/x.bin"])
    other = fresh(obs)
    mox.file.copy_parallel(remote, other, threads=0)  # object to object, one at a time
    assert mox.file.list_directory(other, recursive=True) == mox.file.list_directory(
        str(src), recursive=True
    )


def test_shift_turns_the_standard_functions_to_object_paths(obs: str, tmp_path: Path) -> None:
    import glob

    remote = fresh(obs)
    local_file = tmp_path / "plain.txt"
    mox.file.shift("os", "mox")
    try:
        os.makedirs(f"{remote}/sub/dir")
        assert os.path.isdir(f"{remote}/sub/dir")
        with open(f"{remote}/sub/a.txt", "w") as f:
            f.write("through open()")
        with open(f"{remote}/sub/a.txt") as f:
            assert f.read() == "through open()"
        assert os.path.exists(f"{remote}/sub/a.txt") and os.path.isfile(f"{remote}/sub/a.txt")
        assert os.path.getsize(f"{remote}/sub/a.txt") == len("through open()")
        assert sorted(os.listdir(f"{remote}/sub")) == ["a.txt", "dir"]
        shutil.copyfile(f"{remote}/sub/a.txt", str(local_file))
        shutil.copy(str(local_file), f"{remote}/sub/dir")
        assert glob.glob(f"{remote}/sub/*/*.txt") == [f"{remote}/sub/dir/plain.txt"]
        assert [w[0] for w in os.walk(f"{remote}/sub")] == [f"{remote}/sub", f"{remote}/sub/dir"]
        os.rename(f"{remote}/sub/a.txt", f"{remote}/sub/b.txt")
        os.remove(f"{remote}/sub/b.txt")
        assert not os.path.exists(f"{remote}/sub/b.txt")
        # Local paths still work as ever, through the same functions.
        with open(local_file) as f:
            assert f.read() == "through open()"
        assert os.path.exists(local_file) and os.listdir(tmp_path)
        shutil.rmtree(f"{remote}/sub")
        assert not os.path.exists(f"{remote}/sub")
    finally:
        mox.file.shift("mox", "os")
    assert builtins.open is io.open and os.listdir is _local.listdir
    assert not os.path.exists(f"{remote}/sub")  # plain os again: an odd local path
    with pytest.raises(FileNotFoundError), open(f"{remote}/x"):
        pass


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **env},
        timeout=60,
    )


def test_moxing_is_importable_only_with_the_runs_path() -> None:
    outside = _python("import moxing")
    assert "ModuleNotFoundError" in outside.stderr
    inside = _python(
        "import moxing as mox; from moxing.framework import file; "
        "assert file.copy_parallel is mox.file.copy_parallel; print('ok')",
        PYTHONPATH=str(RUN_PYTHONPATH),
    )
    assert inside.stdout.strip() == "ok", inside.stderr
    for part in ("moxing.tensorflow", "moxing.mxnet"):
        refused = _python(f"import {part}", PYTHONPATH=str(RUN_PYTHONPATH))
        assert "ImportError" in refused.stderr and "mox.file" in refused.stderr, refused.stderr


def test_environment_settings_reach_the_endpoint(object_target: ObjectTarget, obs: str) -> None:
    """A run configures nothing: S3_ENDPOINT and the key variables are enough."""
    remote = fresh(obs)
    mox.file.write(f"{remote}/from-env.txt", "env")
    for names in (
        ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"),
        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ):
        env: dict[str, Any] = {
            "PYTHONPATH": str(RUN_PYTHONPATH),
            "S3_ENDPOINT": object_target.endpoint,
            names[0]: object_target.access_key,
            names[1]: object_target.secret_key,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
        }
        for other in (
            "ACCESS_KEY_ID",
            "SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            env.setdefault(other, "")
        done = _python(
            f"import moxing as mox; print(mox.file.read({f'{remote}/from-env.txt'!r}))", **env
        )
        assert done.stdout.strip() == "env", done.stderr
    unset = _python(
        f"import moxing as mox; mox.file.exists({remote!r})",
        PYTHONPATH=str(RUN_PYTHONPATH),
        S3_ENDPOINT="",
    )
    assert "S3_ENDPOINT is not set" in unset.stderr
