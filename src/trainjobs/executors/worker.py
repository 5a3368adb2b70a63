"""The parent of one worker process: it records the worker's pid and how it ended.

A server that crashes and restarts is not the parent of the workers it left
running, so it cannot wait for them. This small process is: it writes
``<rank>.pid`` when it starts and ``<rank>.exit`` (the return code, negative
for a signal) when the worker ends, and a restarted server adopts the run from
those files. It also pins the worker to its CPUs before starting it, so every
process the worker starts inherits the pinning.
Run as ``python -S worker.py STATE_DIR RANK --cpus=0,1 -- ARGV...``: it imports
only ``os``, ``sys`` and ``signal`` (no subprocess, json or pathlib), so it
starts in a few milliseconds and needs no installed package, and it exits
without the interpreter's tear-down once the exit is recorded, since the
server learns of the run's end from this process's exit.
"""

from __future__ import annotations

import os
import signal
import sys


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
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


def main(argv: list[str]) -> int:
    state_dir, rank, cpus_arg, sep, *command = argv
    if sep != "--" or not command or not cpus_arg.startswith("--cpus="):
        print("usage: worker STATE_DIR RANK --cpus=LIST -- ARGV...", file=sys.stderr)
        return 2
    cpus = {int(c) for c in cpus_arg.removeprefix("--cpus=").split(",") if c}
    os.makedirs(state_dir, exist_ok=True)
    me = os.getpid()
    record = f'{{"pid": {me}, "create_time": {_create_time(me)!r}}}'  # JSON, without json
    _write(os.path.join(state_dir, f"{rank}.pid"), record)
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except OSError as exc:  # a CPU set this machine lacks: run unpinned, say so
            print(f"[trainjobs] could not pin to CPUs {sorted(cpus)}: {exc}", flush=True)
    exit_path = os.path.join(state_dir, f"{rank}.exit")
    try:
        child = os.posix_spawnp(command[0], command, dict(os.environ))
    except OSError as exc:
        print(f"[trainjobs] could not start {command[0]}: {exc}", flush=True)
        _write(exit_path, "127")
        return 127
    # The stop signal goes to the whole process group; this process stays to
    # record the outcome (the worker was started before, so it keeps the default).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pid, status = os.waitpid(child, 0)
    _write(exit_path, str(os.waitstatus_to_exitcode(status)))
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # The exit is what the server waits for (a pidfd): end now, without the
    # interpreter's tear-down, once the outcome is on disk.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
