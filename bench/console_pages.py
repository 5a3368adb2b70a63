"""Benchmark the console's versions view for a job of 10,000 versions.

Seeds a data dir (as ``bench/list_versions.py`` does: straight into SQLite),
starts ``trainjobs serve`` on it, signs in to the console with the project
token, and measures, for the first page, a middle page and the last page of
the versions view:

- time to first byte of the HTML (on loopback: the server's time), p50 and p95;
- time to a complete page: the HTML and every asset it loads (stylesheets,
  scripts and the modules they import), fetched as a browser with an empty
  cache would, one after the other;
- the bytes the first view downloads in all.

Beside them, as a baseline measured in the same run, the API's own listing of
the same page (``GET /v1/.../versions?per_page=20``), which the page renders.

    .venv/bin/python bench/console_pages.py            # 10,000 versions
    .venv/bin/python bench/console_pages.py --versions 2000 --repeat 20   # quicker
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Server  # noqa: E402
from _seed_versions import seed  # noqa: E402

TTFB_TARGET_MS = 100.0
FIRST_VIEW_TARGET_KB = 300.0
PER_PAGE = 20


@dataclass
class Timing:
    label: str
    ttfb_p50: float
    ttfb_p95: float
    complete_ms: float
    bytes: int
    assets: int


def ttfb_ms(client: httpx.Client, url: str) -> tuple[float, int]:
    """Milliseconds to the response's first byte, and the body's size."""
    started = time.perf_counter()
    with client.stream("GET", url) as response:
        first = None
        size = 0
        for chunk in response.iter_raw():
            if first is None:
                first = time.perf_counter()
            size += len(chunk)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code}")
    return ((first or time.perf_counter()) - started) * 1000, size


def assets_of(html: str, base: str) -> list[str]:
    found = re.findall(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"', html)
    return [urljoin(base, a) for a in found if not a.startswith("#")]


def imports_of(js: str, url: str) -> list[str]:
    return [urljoin(url, m) for m in re.findall(r'^import[^"\']*["\']([^"\']+)["\']', js, re.M)]


def complete_page(base: str, cookies: httpx.Cookies, url: str) -> tuple[float, int, int]:
    """A cold load: the HTML, then each asset and module it pulls in, on a fresh client."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as fresh:
        started = time.perf_counter()
        page = fresh.get(url)
        total = len(page.content)
        queue = assets_of(page.text, url)
        seen: set[str] = set()
        while queue:
            asset = queue.pop(0)
            if asset in seen:
                continue
            seen.add(asset)
            got = fresh.get(asset)
            if got.status_code != 200:
                raise SystemExit(f"asset {asset}: {got.status_code}")
            total += len(got.content)
            if asset.endswith(".js"):
                queue.extend(imports_of(got.text, asset))
        return (time.perf_counter() - started) * 1000, total, len(seen)


def measure(client: httpx.Client, label: str, url: str, repeat: int) -> Timing:
    for _ in range(3):  # warm the server's caches, as a used console would have
        ttfb_ms(client, url)
    samples = sorted(ttfb_ms(client, url)[0] for _ in range(repeat))
    complete, size, assets = complete_page(str(client.base_url), client.cookies, url)
    return Timing(
        label,
        statistics.median(samples),
        samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        complete,
        size,
        assets,
    )


def sign_in(base: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/console/sign-in").text
    nonce = re.search(r'name="csrf" value="([^"]+)"', form)
    assert nonce
    done = client.post("/console/sign-in", data={"csrf": nonce.group(1), "token": token})
    if done.status_code != 303:
        raise SystemExit(f"sign-in failed: {done.status_code} {done.text[:200]}")
    return client


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50, help="requests per TTFB figure")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="trainjobs-console-bench-"))
    data_dir = work / "data"
    report = seed(data_dir, args.versions, args.versions, per_job=args.versions, rng_seed=7)
    print(f"seeded {report.versions_after:,} versions in {report.seconds:.1f}s ({data_dir})")
    server = Server(data_dir, work / "serve.log").start()
    try:
        client = sign_in(server.base, server.token)
        job = report.target_job_id
        pages = (args.versions + PER_PAGE - 1) // PER_PAGE
        rows = [
            measure(client, "versions view, page 1", f"/console/jobs/{job}", args.repeat),
            measure(
                client,
                f"versions view, page {pages // 2}",
                f"/console/jobs/{job}?page={pages // 2}",
                args.repeat,
            ),
            measure(
                client,
                f"versions view, page {pages}",
                f"/console/jobs/{job}?page={pages}",
                args.repeat,
            ),
        ]
        api = httpx.Client(base_url=server.base, headers={"X-Auth-Token": server.token}, timeout=60)
        api_url = f"/v1/{server.project_id}/training-jobs/{job}/versions?per_page={PER_PAGE}&page=1"
        for _ in range(3):
            ttfb_ms(api, api_url)
        base_samples = sorted(ttfb_ms(api, api_url)[0] for _ in range(args.repeat))
        baseline = statistics.median(base_samples)
        feed = ttfb_ms(client, f"/console/jobs/{job}/versions.json")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{args.versions:,} versions; {args.repeat} requests per figure; loopback")
    print(f"{'view':<28}{'TTFB p50':>10}{'p95':>8}{'complete':>10}{'KB':>8}{'assets':>8}")
    for r in rows:
        print(
            f"{r.label:<28}{r.ttfb_p50:>8.1f}ms{r.ttfb_p95:>6.1f}ms{r.complete_ms:>8.1f}ms"
            f"{r.bytes / 1024:>8.1f}{r.assets:>8}"
        )
    print(f"{'baseline: API, same page':<28}{baseline:>8.1f}ms")
    print(f"{'live-status feed (JSON)':<28}{feed[0]:>8.1f}ms{'':>18}{feed[1] / 1024:>8.1f}")

    first = rows[0]
    worst = max(r.ttfb_p50 for r in rows)
    checks = [
        ("server time (TTFB p50), worst page", worst, TTFB_TARGET_MS, "ms"),
        ("first view download", first.bytes / 1024, FIRST_VIEW_TARGET_KB, "KB"),
    ]
    print("\ntargets")
    failed = False
    for what, value, target, unit in checks:
        ok = value < target
        failed |= not ok
        print(
            f"  {'ok  ' if ok else 'MISS'} {what}: {value:.1f} {unit} (target < {target:g} {unit})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
