"""The live status line of ``wait``: updated in place on a terminal, one line per status
elsewhere, and always a last line with the final status and the run's duration."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from conftest import Server
from trainjobs.sdk import Estimator, Session
from trainjobs.sdk.progress import StatusLine, format_duration
from trainjobs.sdk.watch import wait_for_version

SLOW = "import time\nprint('start', flush=True)\ntime.sleep(1.0)\n"


def start(session: Session, server: Server) -> tuple[int, int]:
    code_dir, boot = server.upload_script(SLOW)
    spec = Estimator.get_train_instance_types(session)[0]
    job = Estimator(
        session, code_dir=code_dir, boot_file=boot, train_instance_count=1, train_instance_type=spec
    ).fit()
    return int(job.job_id or 0), int(job.version_id or 0)


def watch(session: Session, server: Server, console: Console) -> str:
    job_id, version_id = start(session, server)
    started = time.monotonic()
    line = StatusLine(console)
    with line:
        final = wait_for_version(session.client, job_id, version_id, poll_s=0.1, on_update=line)
    line.finish(final, time.monotonic() - started)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_on_a_terminal_the_line_is_redrawn_with_elapsed_time(
    session: Session, server: Server
) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    out = watch(session, server, console)
    assert "\x1b[" in out  # drawn with terminal control codes, in place
    assert re.search(r"V0001 RUNNING \d+\.\ds", out)
    assert re.search(r"V0001 COMPLETED in \d+\.\ds \(waited \d+\.\ds\)", out)


def test_elsewhere_each_status_is_printed_once(session: Session, server: Server) -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=120)
    out = watch(session, server, console)
    lines = out.splitlines()
    assert "\x1b[" not in out
    assert sum(" RUNNING " in line for line in lines) == 1
    assert len([line for line in lines if "COMPLETED" in line]) == 1
    assert lines[-1].split(" V0001 ")[1].startswith("COMPLETED in ")


def test_durations_read_naturally() -> None:
    assert format_duration(0) == "0.0s"
    assert format_duration(12_345) == "12.3s"
    assert format_duration(125_000) == "2m 05s"
    assert format_duration(3_725_000) == "1h 02m 05s"
