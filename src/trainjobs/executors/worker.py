"""The parent of one worker process: it records the worker's pid and how it ended.

A server that crashes and restarts is not the parent of the workers it left
running, so it cannot wait for them. This small process is: it writes
``<rank>.pid`` when it starts and the return code (negative for a signal)
into ``<rank>.exit`` when the worker ends (the file is made, empty, at its
start), and a restarted server adopts the run from
those files. It also pins the worker to its CPUs before starting it, so every
process the worker starts inherits the pinning.
Run as ``python -S worker.py STATE_DIR RANK --cpus=0,1 [--sandboxed] -- ARGV...``:
it imports only ``os``, ``sys`` and ``signal`` (no subprocess, json or pathlib),
so it starts in a few milliseconds and needs no installed package, and it exits
without the interpreter's tear-down once the exit is recorded, since the server
learns of the run's end from this process's exit.

Or as ``python -S worker.py --standby``: started ahead of need, it waits for
one launch order (a JSON line on stdin: the same arguments, the worker's
environment and working folder, and its log), so that a version's start does
not wait for an interpreter to start. Its stdin closing unused (the server
ended) ends it. Once it took its order it builds the worker's sandbox at once;
inside it, as the worker's user, a shell holds on a pipe from this process
(``GATE``) until the go, a ``g`` on stdin, and then becomes the worker. The
server stages the run's code meanwhile, so the sandbox's set-up is not on the
way to the run. Without the go (stdin closed, or this process killed) the
pipe closes, and the shell ends without starting the worker.

With ``--sandboxed`` ARGV is a sandbox (bwrap) around the worker, which
reports a worker killed by signal N as exit code 128+N, as a shell does; the
parent records it as the signal, the way an unsandboxed worker's would be.
"""

from __future__ import annotations

import os
import signal
import sys


def _write(path: str, text: str) -> None:
    # The run can write to the state folder too: a link it left at the
    # temporary name must not carry this write elsewhere (O_EXCL | O_NOFOLLOW
    # create a new file or fail; os.replace swaps names, following nothing).
    tmp = path + ".tmp"
    try:  # noqa: SIM105 - no contextlib: one import less at every launch
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _create_time(pid: int) -> float:
    # The same clock psutil reads: process start in clock ticks after boot.
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[19])
    with open("/proc/stat") as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


SIGNAL_EXITS = range(129, 129 + 64)  # how a sandbox reports a signal: 128+N
# The sandbox's gate: a shell holds on this descriptor until the go, then closes
# it and becomes the worker; at the pipe's end without a go it ends instead.
GATE_FD = 3
GATE = (
    "/bin/sh",
    "-c",
    f'read _ <&{GATE_FD} || exit 0; exec {GATE_FD}<&-; exec "$@"',
    "trainjobs-gate",
)


def main(
    argv: list[str],
    env: dict[str, str] | None = None,
    gate: int | None = None,
    cwd: str = "",
    taken: int = -1,
) -> int:
    """Start the worker, record its pid and exit; with ``gate``, only after a go on it.
    ``cwd``: the worker's folder, entered at its start (a sandbox enters it itself).
    ``taken``: where to say the order was taken, once the sandbox is on its way."""
    state_dir, rank, cpus_arg, *rest = argv
    sandboxed = bool(rest) and rest[0] == "--sandboxed"
    sep, *command = rest[1:] if sandboxed else rest
    if sep != "--" or not command or not cpus_arg.startswith("--cpus="):
        print("usage: worker STATE_DIR RANK --cpus=LIST [--sandboxed] -- ARGV...", file=sys.stderr)
        return 2
    cpus = {int(c) for c in cpus_arg.removeprefix("--cpus=").split(",") if c}
    os.makedirs(state_dir, exist_ok=True)
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except OSError as exc:  # a CPU set this machine lacks: run unpinned, say so
            print(f"[trainjobs] could not pin to CPUs {sorted(cpus)}: {exc}", flush=True)
    # Made now and written when the worker ends: then only the code is written,
    # not a file made, on the way from the worker's exit to the server noticing it.
    exit_fd = _exit_record(os.path.join(state_dir, f"{rank}.exit"))
    env = dict(os.environ) if env is None else env
    child = release = None
    if gate is not None and sandboxed:
        # First of all, since the sandbox takes longest: the rest overlaps it.
        held, release = os.pipe()  # the sandbox's gate (GATE_FD inside): built now, held
        child = _spawn(command, env, held)
        os.close(held)
        if child is None:
            _record(exit_fd, 127)
            return 127
    if taken >= 0:
        try:  # noqa: SIM105 - no contextlib: one import less at every launch
            os.write(taken, b"1")
        except OSError:  # the server no longer listens (it called the run off)
            pass
        os.close(taken)
    me = os.getpid()
    record = f'{{"pid": {me}, "create_time": {_create_time(me)!r}}}'  # JSON, without json
    _write(os.path.join(state_dir, f"{rank}.pid"), record)
    if gate is not None and os.read(gate, 1) != b"g":
        if release is not None:  # the gate closes unopened: the worker never starts
            os.close(release)
            os.waitpid(child, 0)  # type: ignore[arg-type]
        return 0
    if release is not None:
        os.write(release, b"g\n")
        os.close(release)
    if child is None:
        if cwd:
            os.chdir(cwd)  # staged by now
        child = _spawn(command, env)
        if child is None:
            _record(exit_fd, 127)
            return 127
    # The stop signal goes to the whole process group; this process stays to
    # record the outcome (the worker was started before, so it keeps the default).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pid, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if sandboxed and code in SIGNAL_EXITS:
        code = -(code - 128)
    _record(exit_fd, code)
    return 0


def _exit_record(path: str) -> int:
    """A new, empty ``<rank>.exit``, open for the code (read as not yet recorded)."""
    try:  # noqa: SIM105 - no contextlib: one import less at every launch
        os.unlink(path)
    except FileNotFoundError:
        pass
    # As in _write: a link the run left there is not followed, the file is new.
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def _record(exit_fd: int, code: int) -> None:
    os.write(exit_fd, str(code).encode())
    os.close(exit_fd)


def _spawn(command: list[str], env: dict[str, str], gate: int = -1) -> int | None:
    """The worker's pid; None if it could not start. ``gate``: handed to it as GATE_FD."""
    actions = [(os.POSIX_SPAWN_DUP2, gate, GATE_FD)] if gate >= 0 else []
    try:
        return os.posix_spawnp(command[0], command, env, file_actions=actions)
    except OSError as exc:
        print(f"[trainjobs] could not start {command[0]}: {exc}", flush=True)
        return None


def standby() -> int:
    """Wait for a launch order on stdin, then carry it out as ``main`` does."""
    import json  # here, not at the top: the usual launch stays without it

    line = sys.stdin.buffer.readline()
    if not line:
        return 0  # the server went away before it needed this process
    order = json.loads(line)
    # The log is in a folder the run cannot write to; still, no link is followed.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    log = os.open(order["log"], flags, 0o644)
    taken = os.dup(1)  # the server hears here that the order was taken; then the log
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    gate = os.dup(0)  # the go comes here; the worker's stdin is /dev/null (dup: not inherited)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for folder in order.get("make", ()):
        os.makedirs(folder, exist_ok=True)
    if order.get("owner"):
        uid, gid = order["owner"]
        for folder in order["give"]:
            os.lchown(folder, uid, gid)  # made just now, by this process: no link
    env = order["env"]
    # posix_spawnp looks the command up on this process's PATH: the worker's.
    os.environ["PATH"] = env.get("PATH", os.defpath)
    argv = [order["state_dir"], str(order["rank"]), "--cpus=" + order["cpus"]]
    if order["sandboxed"]:
        argv.append("--sandboxed")
    return main([*argv, "--", *order["argv"]], env, gate, order["cwd"], taken)


if __name__ == "__main__":
    status = standby() if sys.argv[1:] == ["--standby"] else main(sys.argv[1:])
    # The exit is what the server waits for (a pidfd): end now, without the
    # interpreter's tear-down, once the outcome is on disk.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
