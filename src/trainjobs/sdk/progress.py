"""A live status line while a version runs, for the SDK's ``wait`` and the CLI's ``--wait``."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.status import Status

from trainjobs.sdk.statuses import COMPLETED, is_terminal, status_name


def format_duration(ms: int | float) -> str:
    seconds = max(0.0, float(ms) / 1000)
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def version_label(version: dict[str, Any]) -> str:
    return f"{version.get('job_name', '')} {version.get('version_name', '')}".strip()


def final_line(version: dict[str, Any], waited_s: float | None = None) -> str:
    """``job V0002 COMPLETED in 12.3s``: the run's own duration, then how long was waited."""
    name = status_name(int(version["status"]))
    text = f"{version_label(version)} {name} in {format_duration(int(version.get('duration', 0)))}"
    if waited_s is not None:
        text += f" (waited {format_duration(waited_s * 1000)})"
    return text


class StatusLine:
    """Shows each poll of a version: one live line on a terminal, a line per status
    change elsewhere (logs, CI, notebooks without a live display)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Status | None = None
        self._last_status: int | None = None

    def __enter__(self) -> StatusLine:
        if self.console.is_terminal:
            self._live = self.console.status("waiting for the service…")
            self._live.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __call__(self, version: dict[str, Any], elapsed_s: float) -> None:
        status = int(version["status"])
        text = f"{version_label(version)} {status_name(status)} {format_duration(elapsed_s * 1000)}"
        if self._live is not None:
            self._live.update(text)
        elif status != self._last_status and not is_terminal(status):
            # the final status gets its own line, from finish()
            self.console.print(text, highlight=False)
        self._last_status = status

    def finish(self, version: dict[str, Any], elapsed_s: float) -> None:
        style = "green" if int(version["status"]) == COMPLETED else "red"
        self.console.print(f"[{style}]{final_line(version, elapsed_s)}[/{style}]", highlight=False)
