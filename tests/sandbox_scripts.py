"""The hostile and helper boot files of the sandbox tests (test_sandbox.py, and
ray/test_ray_sandbox.py through it), and the mark that skips them without bubblewrap."""

from __future__ import annotations

import os

import pytest

needs_bwrap = pytest.mark.skipif(
    not os.access("/usr/bin/bwrap", os.X_OK), reason="needs bubblewrap (Debian: bubblewrap)"
)

# Every hostile script: TARGETS (from --targets, JSON) is what it tries; it prints
# "LEAK ..." and exits 3 at the first success, or "refused ..." for each refusal.
PRELUDE = """\
import json, os, signal, sys
from pathlib import Path
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
TARGETS = json.loads(args["targets"])
def leak(what):
    print("LEAK", what, flush=True)
    sys.exit(3)
def refused(what, exc):
    print("refused", what, type(exc).__name__, flush=True)
"""

READ = (
    PRELUDE
    + """
for path in TARGETS:
    try:
        data = open(path, "rb").read(64)
    except OSError as exc:
        refused(path, exc)
    else:
        leak(f"{path}: {data!r}")
"""
)

LIST = (
    PRELUDE
    + """
own = os.environ["TRAINJOBS_TRAIN_URL"] + "/"
for path in TARGETS:
    try:
        names = os.listdir(path)
    except OSError as exc:
        refused(path, exc)
        continue
    # What leads to this run's own folder may show; nothing else.
    others = [n for n in names if not own.startswith(os.path.join(path, n) + "/")]
    if others:
        leak(f"{path}: {others}")
    print("refused", path, "shows only", names, flush=True)
"""
)

WALK_UP = (
    PRELUDE
    + """
# Up from the working folder, as a curious script would, looking for the server's files.
for folder in [Path.cwd(), *Path.cwd().parents]:
    for name in TARGETS:
        candidate = folder / name
        if candidate.exists():
            leak(str(candidate))
print("refused walk-up: nothing of the server above", Path.cwd(), flush=True)
"""
)

WRITE = (
    PRELUDE
    + """
for path in TARGETS:
    try:
        with open(path, "w") as f:
            f.write("pwned")
    except OSError as exc:
        refused(path, exc)
    else:
        leak(path)
"""
)

KILL = (
    PRELUDE
    + """
print("my processes:", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), flush=True)
for pid in TARGETS:
    try:
        os.kill(int(pid), signal.SIGKILL)
    except OSError as exc:
        refused(pid, exc)
    else:
        leak(f"killed {pid}")
"""
)

SLEEPER = """\
import os, time
out = os.environ["TRAINJOBS_TRAIN_URL"]
open(os.path.join(out, "secret.txt"), "w").write("another run's secret")
open(os.path.join(out, "ready"), "w").write("")
time.sleep(600)
"""
