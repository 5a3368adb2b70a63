"""Load results as a table, and each figure beside its target."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from _common import Result

OTHER_CPU_WARN_PCT = 10


@dataclass
class Check:
    what: str
    value: float
    limit: float
    ok: bool


def rate_label(rate: float) -> str:
    """How a scenario's name says its offered rate (none: closed loop)."""
    return f" @{rate:g}/s" if rate else ""


def at_most(what: str, value: float, limit: float) -> Check:
    return Check(what, value, limit, value <= limit)


def at_least(what: str, value: float, limit: float) -> Check:
    return Check(what, value, limit, value >= limit)


def print_results(title: str, results: Iterable[Result]) -> None:
    results = list(results)
    print(f"\n{title}")
    head = (
        f"{'scenario':<34}{'requests':>9}{'err':>5}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'req/s':>9}{'KiB/resp':>10}{'cli cpu ms':>11}{'srv cpu ms':>11}{'other %':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.scenario:<34}{r.requests:>9}{r.errors:>5}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.max_ms:>9.2f}{r.rps:>9.1f}{r.response_bytes / 1024:>10.1f}"
            f"{r.client_cpu_ms:>11.2f}{r.server_cpu_ms:>11.2f}{r.other_cpu_pct:>9.0f}"
        )
    print(
        "cli/srv cpu ms: CPU time per request of this client process and of the server; "
        "other %: CPU that other processes used meanwhile (100 = one core)"
    )
    if any(r.other_cpu_pct > OTHER_CPU_WARN_PCT for r in results):
        print(f"WARNING: other processes used over {OTHER_CPU_WARN_PCT}% of a core: figures skewed")


def print_checks(title: str, checks: Sequence[Check]) -> None:
    print(f"\n{title}")
    for c in checks:
        print(f"  {'ok  ' if c.ok else 'MISS'}  {c.what:<38}{c.value:>9.2f}  (target {c.limit:g})")
