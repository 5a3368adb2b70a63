"""Object-store paths and the `trainjobs obs` commands against a real data dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import TRAINJOBS
from trainjobs.objectstore import ObjectStore, location, parse_obs_path
from trainjobs.objectstore.paths import InvalidObsPath


@pytest.mark.parametrize(
    ("text", "bucket", "key"),
    [
        ("/b/k/x.py", "b", "k/x.py"),
        ("obs://b/k/", "b", "k"),
        ("s3://b", "b", ""),
        ("/b//k///x", "b", "k/x"),
    ],
)
def test_paths_parse(text: str, bucket: str, key: str) -> None:
    path = parse_obs_path(text)
    assert (path.bucket, path.key) == (bucket, key)


@pytest.mark.parametrize(
    "text",
    ["", "relative/path", "/", "/b/../other", "/b/k/../../x", "obs://b/./k", "/b\\k", "/b/k\x00",
     "/../etc/passwd", "/" + "b" * 70 + "/k", "/b/" + "k" * 2000, "http://b/k"],
)  # fmt: skip
def test_paths_that_leave_their_bucket_are_refused(text: str) -> None:
    with pytest.raises(InvalidObsPath):
        parse_obs_path(text)


def test_contains_is_by_segment() -> None:
    app = parse_obs_path("/b/app")
    assert app.contains(parse_obs_path("/b/app/x.py"))
    assert not app.contains(parse_obs_path("/b/application/x.py"))
    assert not app.contains(parse_obs_path("/c/app/x.py"))


PROJECT = "0123456789abcdef0123456789abcdef"


def _obs(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRAINJOBS, "obs", *args, "--data-dir", str(data_dir), "--project-id", PROJECT],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_obs_cp_and_ls_copy_folders_in_and_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    location.record(data, "", "")  # a server's data dir (serve writes this first)
    src = tmp_path / "code"
    (src / "pkg").mkdir(parents=True)
    (src / "train.py").write_text("print(1)\n")
    (src / "pkg" / "util.py").write_text("X = 1\n")
    up = _obs(data, "cp", str(src), "obs://bkt/app")
    assert up.returncode == 0, up.stderr
    assert "copied 2 file(s)" in up.stdout
    assert (data / "obs" / PROJECT / "bkt" / "app" / "pkg" / "util.py").read_text() == "X = 1\n"
    listing = _obs(data, "ls", "obs://bkt/app")
    assert "/bkt/app/train.py" in listing.stdout and "/bkt/app/pkg/" in listing.stdout
    down = _obs(data, "cp", "obs://bkt/app", str(tmp_path / "back"))
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "back" / "pkg" / "util.py").read_text() == "X = 1\n"
    inside = _obs(data, "cp", "obs://bkt/app", "obs://bkt/copy")
    assert inside.returncode == 0 and (data / "obs" / PROJECT / "bkt/copy/train.py").exists()
    assert "/bkt" in _obs(data, "ls").stdout
    removed = _obs(data, "rm", "obs://bkt/copy")
    assert removed.returncode == 0 and not (data / "obs" / PROJECT / "bkt/copy").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["cp", "{src}", "obs://bkt/../../escape"],
        ["cp", "obs://bkt/../x", "{tmp}/out"],
        ["ls", "obs://../"],
        ["ls", "obs://bkt/nothing-here"],
        ["cp", "{tmp}/does-not-exist", "obs://bkt/x"],
        ["cp", "{src}", "{tmp}/other"],
        ["rm", "obs://bkt/nothing-here"],
    ],
)
def test_obs_commands_refuse_bad_paths_without_a_traceback(tmp_path: Path, args: list[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    data = tmp_path / "data"
    location.record(data, "", "")
    filled = [a.format(src=src, tmp=tmp_path) for a in args]
    result = _obs(data, *filled)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "error" in result.stderr.lower()
    assert not (tmp_path / "escape").exists() and not (data / "escape").exists()


def test_store_sync_uploads_only_changes(tmp_path: Path) -> None:
    store = ObjectStore.from_url(str(tmp_path / "obs"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "a").write_text("1")
    state: dict[str, tuple[int, int]] = {}
    target = parse_obs_path("/b/out")
    assert store.sync(out, target, state) == 1
    assert store.sync(out, target, state) == 0
    (out / "b").write_text("2")
    (out / "a").write_text("11")
    assert store.sync(out, target, state) == 2
    assert (tmp_path / "obs/b/out/a").read_text() == "11"


def test_projects_cannot_reach_each_others_objects(tmp_path: Path) -> None:
    root = ObjectStore.from_url(str(tmp_path / "obs"))
    mine, theirs = root.for_project("a" * 32), root.for_project("b" * 32)
    src = tmp_path / "f.txt"
    src.write_text("secret")
    mine.upload(src, parse_obs_path("/bkt/f.txt"))
    assert mine.is_file(parse_obs_path("/bkt/f.txt"))
    assert not theirs.exists(parse_obs_path("/bkt/f.txt"))
    assert [e.path for e in theirs.buckets()] == []
    with pytest.raises(ValueError):
        root.for_project("../" + "a" * 29)


def test_obs_cli_without_a_project_says_how_to_get_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [*TRAINJOBS, "obs", "ls", "--data-dir", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in __import__("os").environ.items() if k != "TRAINJOBS_PROJECT_ID"},
    )
    assert result.returncode == 3
    assert "trainjobs serve" in result.stderr and "Traceback" not in result.stderr


def test_obs_cli_with_no_server_here_and_none_to_reach_writes_nothing(tmp_path: Path) -> None:
    """No data dir of a server on this machine and no endpoint or key: a clear error,
    never a local folder the server does not read."""
    (tmp_path / "f.txt").write_text("x")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TRAINJOBS_")}
    result = subprocess.run(
        [*TRAINJOBS, "obs", "cp", "f.txt", "obs://bkt/f.txt", "--project-id", PROJECT],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 3, result.stdout
    assert "TRAINJOBS_ENDPOINT" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_folder_markers_keep_empty_folders_and_are_no_files_of_the_user(tmp_path: Path) -> None:
    store = ObjectStore.from_url(str(tmp_path / "obs"))
    (tmp_path / "obs/b/data/empty").mkdir(parents=True)
    (tmp_path / "obs/b/data/empty/.trainjobs-bucket").write_bytes(b"")
    (tmp_path / "obs/b/data/f.txt").write_text("x")
    (tmp_path / "obs/b/data/.trainjobs-bucket").write_bytes(b"")
    data = parse_obs_path("/b/data")
    assert [e.path for e in store.ls(data)] == ["/b/data/empty", "/b/data/f.txt"]
    assert [e.path for e in store.ls(parse_obs_path("/b/data/empty"))] == []
    out = tmp_path / "out"
    assert store.download(data, out) == 1
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["empty", "f.txt"]
    assert store.copy(data, parse_obs_path("/b/copy")) == 1
    assert (tmp_path / "obs/b/copy/empty/.trainjobs-bucket").is_file()
    pulled = tmp_path / "pulled"
    assert store.pull(data, pulled, {}) == 1
    assert sorted(str(p.relative_to(pulled)) for p in pulled.rglob("*")) == ["f.txt"]
