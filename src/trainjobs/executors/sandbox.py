"""The fence around every worker: bubblewrap namespaces and an environment from an allow-list.

A training script is other people's code. Inside the sandbox a worker sees the
system read-only (its interpreter and libraries included), its own run folders
at the same paths as outside (so argv, cwd and paths need no remapping), a
private ``/cache`` and ``/tmp`` backed by folders of its run, and only its own
processes (a private PID namespace). Nothing else of the data dir is there.
The network is shared: the workers of one version meet on loopback, and runs
reach the server's endpoints there. When the server runs as root, the worker
runs as an unprivileged user.

This module only builds command lines and environments; the executors start
them under the recording parent (``executors/worker.py``) on whatever node the
worker runs, so the same policy holds locally and on every Ray node.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainjobs.executors import worker as worker_parent
from trainjobs.executors.base import WorkerSpec

DEFAULT_RUN_USER = "nobody"
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap), or start with --no-sandbox (TRAINJOBS_NO_SANDBOX=1) to run tenants' code "
    "with the server's own rights"
)
# What a worker's environment takes from the server's, whatever else the server holds.
# OMP_NUM_THREADS: Ray sizes it to the worker's bundle on its node.
ALLOWED_ENV = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TERM", "OMP_NUM_THREADS")
ALLOWED_ENV_PREFIXES = ("LC_",)
# Inside the sandbox the server's home is not there: a private, writable one instead.
SANDBOX_HOME = "/cache"
# Kept so that the system's tools, libraries and configuration work inside.
SYSTEM_DIRS = ("/usr", "/etc", "/sys")
MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICE_GLOBS = ("nvidia*", "dri", "kfd")  # accelerators, when the machine has them
WORKER_PARENT = str(Path(worker_parent.__file__).resolve())


@dataclass(frozen=True)
class Policy:
    """How workers are fenced in; the same on every node that runs them."""

    enabled: bool = True
    # Folders no run may see, even where a system folder holds them (the data dir).
    hidden: tuple[str, ...] = ()
    run_user: str = DEFAULT_RUN_USER  # whom workers run as when the server is root
    # Server variables the operator hands to every run (name, value): taken from
    # the server's environment, so that every node hands over the same.
    passthrough: tuple[tuple[str, str], ...] = ()

    def wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> Policy:
        return cls(
            enabled=bool(raw.get("enabled", True)),
            hidden=tuple(raw.get("hidden", ())),
            run_user=str(raw.get("run_user", DEFAULT_RUN_USER)),
            passthrough=tuple((str(k), str(v)) for k, v in raw.get("passthrough", ())),
        )


@dataclass(frozen=True)
class Launch:
    """The recording parent's command line and environment for one worker, and
    the same as the order a standby parent takes (``executors/worker.py``)."""

    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)  # what the parent starts
    sandboxed: bool = False
    cpus: str = ""
    # Folders the standby parent makes before it builds the sandbox (bwrap binds
    # them), and those of them it gives to ``owner`` (uid, gid) at once.
    make: list[str] = field(default_factory=list)
    give: list[str] = field(default_factory=list)
    owner: tuple[int, int] | None = None

    def order(self, state_dir: Path, rank: int, cwd: Path, log: Path) -> dict[str, Any]:
        return {
            "state_dir": str(state_dir),
            "rank": rank,
            "cpus": self.cpus,
            "sandboxed": self.sandboxed,
            "argv": self.argv,
            "env": self.env,
            "cwd": str(cwd),
            "log": str(log),
            "make": self.make,
            "give": self.give,
            "owner": self.owner,
        }


def standby_command() -> list[str]:
    """A recording parent started ahead of need, waiting for its order."""
    return [sys.executable, "-S", WORKER_PARENT, "--standby"]


@functools.cache
def bwrap_path() -> str | None:
    # Looked up once: the server refuses to start without it (``problem``).
    return shutil.which("bwrap")


@functools.cache
def _setpriv_path() -> str:
    return shutil.which("setpriv") or "/usr/bin/setpriv"


def run_as(policy: Policy) -> tuple[int, int] | None:
    """The (uid, gid) workers run as: None when the server is not root (they run as it)."""
    if os.geteuid() != 0:
        return None
    name = policy.run_user
    uid_text, _, gid_text = name.partition(":")
    if uid_text.isdigit():
        return int(uid_text), int(gid_text) if gid_text.isdigit() else int(uid_text)
    entry = pwd.getpwnam(name)  # KeyError: no such user, said by problem()
    return entry.pw_uid, entry.pw_gid


def problem(policy: Policy) -> str:
    """Why workers cannot be sandboxed here, with what to do about it; "" if they can."""
    if not policy.enabled:
        return ""
    bwrap = bwrap_path()
    if bwrap is None:
        return f"the sandbox tool bwrap is not installed: {INSTALL_HINT}"
    try:
        user = run_as(policy)
    except KeyError:
        return (
            f"the user {policy.run_user!r} that runs workers does not exist: create it "
            "(useradd --system --no-create-home trainjobs-run) or set TRAINJOBS_RUN_USER "
            "to an existing user or a numeric uid[:gid]"
        )
    if user is not None and shutil.which("setpriv") is None:
        return "setpriv is missing: install util-linux (it runs workers as TRAINJOBS_RUN_USER)"
    trial = [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--", "true"]
    try:
        done = subprocess.run(trial, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run ({exc}): {INSTALL_HINT}"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        return (
            f"bwrap cannot create namespaces here ({why}): allow user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1) or run the server as root, or "
            "start with --no-sandbox (TRAINJOBS_NO_SANDBOX=1)"
        )
    return ""


def describe(policy: Policy) -> str:
    """One line for the startup banner and /health."""
    if not policy.enabled:
        return "OFF (--no-sandbox): runs have the server's own rights"
    user = None
    with contextlib.suppress(KeyError):
        user = run_as(policy)
    who = f", workers run as {policy.run_user}" if user is not None else ""
    return f"bubblewrap{who}"


def environment(contract: Mapping[str, str], policy: Policy) -> dict[str, str]:
    """A worker's environment: an allow-list of the server's, then the run contract's.

    Never the server's whole environment: its database URL, object-store keys
    and anything else an operator gave it are not for tenants' code.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ALLOWED_ENV or k.startswith(ALLOWED_ENV_PREFIXES)
    }
    env.update(policy.passthrough)
    if policy.enabled:
        env["HOME"] = SANDBOX_HOME
    env.update(contract)
    return env


def scratch_dirs(worker: WorkerSpec) -> tuple[Path, Path] | None:
    """The host folders behind the worker's ``/cache`` and ``/tmp``."""
    if worker.scratch is None:
        return None
    return worker.scratch / "cache", worker.scratch / "tmp"


def prepare(policy: Policy, worker: WorkerSpec) -> None:
    """Create the worker's scratch folders and its own folders (bound from the
    start, before anything is staged into them); give them to its user."""
    if not policy.enabled:
        return
    scratch = scratch_dirs(worker)
    for folder in (*(scratch or ()), *(b.source for b in worker.binds if b.own)):
        folder.mkdir(parents=True, exist_ok=True)
    user = run_as(policy)
    if user is not None and scratch is not None:
        for folder in (worker.scratch, *scratch):
            os.lchown(folder, *user)  # type: ignore[arg-type]
    hand_over(policy, worker)


def hand_over(policy: Policy, worker: WorkerSpec) -> None:
    """Give the worker's own writable folders, with what was staged into them, to
    its user. Not its scratch: bwrap makes the mount points of deeper binds in
    there (under /tmp), which must stay root's."""
    if not policy.enabled:
        return
    user = run_as(policy)
    if user is None:
        return
    for top in [b.source for b in worker.binds if b.own and not b.read_only]:
        _chown_tree(top, *user)


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    # Links are changed themselves, never their targets (lchown).
    with contextlib.suppress(FileNotFoundError):
        os.lchown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for name in (*dirs, *files):
            with contextlib.suppress(FileNotFoundError):
                os.lchown(os.path.join(root, name), uid, gid)


def launch(
    policy: Policy, worker: WorkerSpec, state_dir: Path, rank: int, gated: bool = False
) -> Launch:
    """The recording parent's command for one worker, the sandbox inside it when enabled.
    ``gated``: for a standby parent, whose sandbox holds at its gate until the go."""
    cpus = ",".join(str(c) for c in worker.cpus)
    parent = [
        sys.executable,
        "-S",  # the parent needs only the standard library: start fast
        WORKER_PARENT,
        str(state_dir),
        str(rank),
        "--cpus=" + cpus,
    ]
    argv = list(worker.argv)
    make: list[str] = []
    give: list[str] = []
    if policy.enabled:
        parent.append("--sandboxed")
        argv = bwrap_command(policy, worker, argv, gated)
        # What the sandbox binds, made by the parent off the server's way: the
        # run's own folders (staged into later) and the scratch behind /cache, /tmp.
        scratch = scratch_dirs(worker)
        make = [str(b.source) for b in worker.binds if b.own]
        if scratch is not None:
            make += [str(f) for f in scratch]
            give = [str(worker.scratch), *make[-2:]]
    env = environment(worker.env, policy)
    owner = run_as(policy) if give else None
    return Launch([*parent, "--", *argv], env, argv, policy.enabled, cpus, make, give, owner)


def bwrap_command(
    policy: Policy, worker: WorkerSpec, argv: Sequence[str], gated: bool = False
) -> list[str]:
    bwrap = bwrap_path() or "bwrap"
    args: list[str] = [bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-cgroup-try"]
    args += ["--new-session"]  # no terminal tricks (TIOCSTI) into the server's session
    interpreter = argv[0] if argv else sys.executable
    system = _system_binds(interpreter)
    # The private /cache and /tmp first: a system folder that lies under /tmp (a
    # checkout and its venv there) is bound on top of them, not hidden by them.
    scratch = scratch_dirs(worker)
    if scratch is not None:
        args += ["--bind", str(scratch[0]), "/cache", "--bind", str(scratch[1]), "/tmp"]
    mounts, made_by_system = _system_mounts(interpreter, scratch is not None)
    args += mounts
    made = set(made_by_system)
    for device in _devices():
        args += ["--dev-bind", device, device]
    # A hidden folder that a system bind holds is covered with an empty one.
    for hidden in policy.hidden:
        if any(_within(hidden, source) for source, _ in system):
            args += ["--tmpfs", hidden]
    for bind in worker.binds:
        flag = "--ro-bind" if bind.read_only else "--bind"
        args += _mount(flag, str(bind.source), str(bind.dest), made)
    args += ["--chdir", str(worker.cwd)]
    user = run_as(policy)
    if user is not None:
        uid, gid = user
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
        args += [_setpriv_path(), f"--reuid={uid}"]
        args += [f"--regid={gid}", "--clear-groups", "--inh-caps=-all", "--no-new-privs"]
    args += ["--", *(worker_parent.GATE if gated else ()), *argv]
    return args


@functools.lru_cache(maxsize=16)
def _system_mounts(interpreter: str, private_tmp: bool) -> tuple[tuple[str, ...], frozenset[str]]:
    """The system's part of every sandbox for ``interpreter``: the same for every
    run, so made once. With the folders it made (``private_tmp``: /cache and
    /tmp were bound before it)."""
    made = {"/cache", "/tmp"} if private_tmp else set()
    args: list[str] = []
    for source, dest in _system_binds(interpreter):
        args += _mount("--ro-bind", source, dest, made)
    for link in MERGED_USR_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm"]
    return tuple(args), frozenset(made)


def _mount(flag: str, source: str, dest: str, made: set[str]) -> list[str]:
    """A bind, after its missing parents: bwrap would make those private (0700),
    and the worker's user could not walk through them to the bound folder."""
    args: list[str] = []
    for parent in reversed(Path(dest).parents[:-1]):
        if str(parent) not in made:
            made.add(str(parent))
            args += ["--dir", str(parent)]
    made.add(dest)
    return [*args, flag, source, dest]


@functools.lru_cache(maxsize=16)
def _system_binds(interpreter: str) -> tuple[tuple[str, str], ...]:
    """What the worker's interpreter and the system need, read-only, at the same paths."""
    wanted: list[str] = [d for d in SYSTEM_DIRS if os.path.isdir(d)]
    wanted += _interpreter_dirs(interpreter)
    # trainjobs itself (``trainjobs.report`` is for scripts to import).
    wanted.append(str(Path(__file__).resolve().parent.parent.parent))
    kept: list[str] = []
    for path in sorted({os.path.realpath(p) for p in wanted if os.path.isdir(p)}, key=len):
        if path == "/" or any(_within(path, k) for k in kept):
            continue
        kept.append(path)
    return tuple((p, p) for p in kept)


def _interpreter_dirs(interpreter: str) -> list[str]:
    dirs = [sys.prefix, sys.base_prefix, sys.exec_prefix]
    # Not sys.path[0]: the server's own script folder or working folder (``-m``).
    dirs += [p for p in sys.path[1:] if p and os.path.isabs(p)]
    if os.path.isabs(interpreter):
        # A venv's prefix (bin/..) and its base interpreter's.
        dirs.append(str(Path(interpreter).parent.parent))
        dirs.append(str(Path(os.path.realpath(interpreter)).parent.parent))
    # A file on sys.path (a zip) is bound through its folder.
    return [d if os.path.isdir(d) else os.path.dirname(d) for d in dirs]


def _devices() -> list[str]:
    found: list[str] = []
    for pattern in DEVICE_GLOBS:
        found += [str(p) for p in Path("/dev").glob(pattern)]
    return sorted(found)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
