"""Benchmark reading one page of a big log file (executors/logfiles.py).

Writes a ``--size-mib`` log (default 1 GiB) of numbered, realistic lines
(about 105 bytes, 85 to 125) in big blocks, then through ``logfiles.window``:

(a) the first read with no index (it builds the sparse index and its
    ``<file>.idx`` sidecar), with the file in the page cache and again with
    the file evicted from it, and the first read after a "restart" (sidecar
    on disk, nothing in memory);
(b) warm reads, p50/p99 over ``--reads`` each: the last 50 lines, a middle
    page, a page near the start, an ascending page before the end, random
    pages, and 500-line pages;
(c) the read after appending ``--append-mib`` more (the index grows
    incrementally);
(d) this process's peak RSS growth during (a)-(c) (VmHWM, reset before);
(e) end to end (unless ``--skip-http``): a real ``trainjobs serve`` runs a job
    whose boot file (this script, ``--emit_bytes``) writes the log to stdout
    itself; pages are read through ``GET .../aom-log`` and timed.

Every page read is checked: its lines are exactly the numbered lines expected.

    .venv/bin/python bench/log_page.py            # 1 GiB, a few minutes
    .venv/bin/python bench/log_page.py --quick    # 64 MiB, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
from _log_fixture import MIB, check, emit, write_log
from _log_reads import Case, cases, first_read, pct, reset_peak_rss, rss_kib, timed_read

from trainjobs.executors import logfiles
from trainjobs.objectstore import ObjectStore, parse_obs_path

REPO = Path(__file__).resolve().parent.parent
TRAINJOBS = REPO / ".venv" / "bin" / "trainjobs"
# The job's boot file is this script: the modules it imports go beside it.
HELPERS = ("_log_fixture.py", "_log_reads.py")
COMPLETED = 10
TERMINAL = {10, 11, 12, 13, 14}
HEALTH_TIMEOUT_S = 60.0
JOB_NAME = "log-bench"


def in_process(args: argparse.Namespace, work: Path) -> None:
    path = work / f"{JOB_NAME}-V0001.0"
    size = args.size_mib * MIB
    t0 = time.perf_counter()
    next_line = write_log(path, size)
    gen_s = time.perf_counter() - t0
    total = next_line - 1
    actual = path.stat().st_size
    print(
        f"log: {actual / MIB:.0f} MiB, {total:,} lines, {actual / total:.1f} bytes/line "
        f"(written in {gen_s:.1f} s, {actual / MIB / gen_s:.0f} MiB/s)"
    )
    idx = path.with_name(path.name + logfiles.INDEX_SUFFIX)

    print("\n== (a) first read (last 50 lines), ms ==")
    base_rss = rss_kib("VmRSS")
    peak_ok = reset_peak_rss()
    cold = first_read(path, total, drop_index=True, drop_cache=False)
    cold_peak = rss_kib("VmHWM") - base_rss
    print(f"no index, file in page cache      {cold:>9.1f}  (builds {idx.stat().st_size} B .idx)")
    cold_disk = first_read(path, total, drop_index=True, drop_cache=True)
    print(f"no index, file evicted from cache {cold_disk:>9.1f}")
    restart = first_read(path, total, drop_index=False, drop_cache=False)
    print(f"restart: .idx on disk, cache warm {restart:>9.1f}")
    restart_disk = first_read(path, total, drop_index=False, drop_cache=True)
    print(f"restart: .idx on disk, file evicted {restart_disk:>7.1f}")
    evict_check = first_read(path, total, drop_index=False, drop_cache=False)
    print(f"(then a first read again, warm)   {evict_check:>9.1f}")

    print(f"\n== (b) warm reads, {args.reads} each, ms (every page checked) ==")
    print(f"{'case':<24} {'p50':>8} {'p99':>8} {'max':>8} {'cpu_mean':>9}")
    rng = random.Random(42)
    warm_peak_base = rss_kib("VmRSS")
    reset_peak_rss()
    worst_p50 = 0.0
    for case in cases(rng):
        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(args.reads):
            wall, cpu = timed_read(path, case, total)
            walls.append(wall)
            cpus.append(cpu)
        worst_p50 = max(worst_p50, pct(walls, 50))
        print(
            f"{case.name:<24} {pct(walls, 50):>8.3f} {pct(walls, 99):>8.3f} "
            f"{max(walls):>8.3f} {statistics.fmean(cpus):>9.3f}",
            flush=True,
        )
    warm_peak = rss_kib("VmHWM") - warm_peak_base

    print(f"\n== (c) append {args.append_mib} MiB, then read the last 50 lines, ms ==")
    t0 = time.perf_counter()
    next_line = write_log(path, args.append_mib * MIB, first=next_line)
    append_s = time.perf_counter() - t0
    new_total = next_line - 1
    append_base = rss_kib("VmRSS")  # writing allocates blocks; only the reads count
    reset_peak_rss()
    tail = cases(rng)[0]
    first_after, _ = timed_read(path, tail, new_total)
    second_after, _ = timed_read(path, tail, new_total)
    middle = Case("new middle", 50, lambda t: total + (new_total - total) // 2, True)
    mid_after, _ = timed_read(path, middle, new_total)
    append_peak = rss_kib("VmHWM") - append_base
    print(f"appended {new_total - total:,} lines in {append_s:.2f} s")
    print(f"first read after the append (indexes the new chunks) {first_after:>8.3f}")
    print(f"second read                                          {second_after:>8.3f}")
    print(f"a page inside the appended part                      {mid_after:>8.3f}")

    print("\n== (d) peak RSS growth of this process during reads (VmHWM - VmRSS before) ==")
    if peak_ok:
        print(
            f"(a) first read, index built over {actual / MIB:.0f} MiB: {cold_peak / 1024:.1f} MiB"
        )
        print(f"(b) {8 * args.reads} warm reads: {warm_peak / 1024:.1f} MiB")
        print(f"(c) reads after the append: {append_peak / 1024:.1f} MiB")
    else:
        print("(cannot reset the peak: /proc/self/clear_refs not writable)")
    print(f"index in memory: {len(logfiles.index_for(path, path.parent)._counts) * 8} B")
    logfiles.forget([path])
    path.unlink()
    idx.unlink(missing_ok=True)


# -- (e) end to end ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, str], str]]:
    port = free_port()
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(TRAINJOBS), "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    descendants: set[int] = set()
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                log.flush()
                tail = Path(log.name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"server exited with {proc.returncode}:\n{tail}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy")
            time.sleep(0.1)
        creds = json.loads((data_dir / "credentials.json").read_text())
        base = f"{url}/v1/{creds['project_id']}"
        yield proc, base, {"X-Auth-Token": creds["token"]}, url
    finally:
        with suppress(psutil.NoSuchProcess):
            descendants.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        for pid in descendants:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def end_to_end(args: argparse.Namespace, work: Path) -> None:
    data_dir = work / "data"
    data_dir.mkdir()
    code = work / "code"
    code.mkdir()
    shutil.copy(Path(__file__), code / "emit_log.py")
    for helper in HELPERS:
        shutil.copy(Path(__file__).with_name(helper), code / helper)
    ObjectStore.from_url(str(data_dir / "obs")).upload(code, parse_obs_path("/bench/code"))
    size = args.size_mib * MIB
    print(f"\n== (e) end to end: GET .../aom-log on a {args.size_mib} MiB log written by a job ==")
    with (
        serve(data_dir) as (proc, base, headers, _url),
        httpx.Client(headers=headers, timeout=60) as client,
    ):
        r = client.post(
            f"{base}/training-jobs",
            json={
                "job_name": JOB_NAME,
                "config": {
                    "worker_server_num": 1,
                    "app_url": "/bench/code/",
                    "boot_file_url": "/bench/code/emit_log.py",
                    "spec_id": 1,
                    "parameter": [{"label": "emit_bytes", "value": str(size)}],
                },
            },
        )
        r.raise_for_status()
        job_id, version_id = int(r.json()["job_id"]), int(r.json()["version_id"])
        version = f"{base}/training-jobs/{job_id}/versions/{version_id}"
        t0 = time.perf_counter()
        while True:
            status = int(client.get(version).json()["status"])
            if status in TERMINAL:
                break
            if time.perf_counter() - t0 > 900:
                raise RuntimeError("the log-writing job did not finish in 15 minutes")
            time.sleep(0.5)
        if status != COMPLETED:
            raise RuntimeError(f"the log-writing job ended with status {status}")
        log_path = data_dir / "runs" / str(version_id) / "logs" / f"{JOB_NAME}-V0001.0"
        print(
            f"job wrote {log_path.stat().st_size / MIB:.0f} MiB in "
            f"{time.perf_counter() - t0:.1f} s (status poll included)"
        )
        name = client.get(f"{version}/log/file-names").json()["log_file_list"][0]
        assert name == log_path.name, name

        def page(lines: int, base_line: int | None, order: str) -> tuple[float, dict[str, str]]:
            params = {"log_file": name, "lines": str(lines), "order": order}
            if base_line is not None:
                params["base_line"] = str(base_line)
            w0 = time.perf_counter()
            resp = client.get(f"{version}/aom-log", params=params)
            wall = (time.perf_counter() - w0) * 1000
            resp.raise_for_status()
            body: dict[str, str] = resp.json()
            return wall, body

        hwm_ok = True
        try:
            Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
        except OSError:
            hwm_ok = False
        rss0 = rss_kib("VmRSS", proc.pid)
        cold, tail = page(50, None, "desc")
        cold_grew = (rss_kib("VmHWM", proc.pid) - rss0) / 1024
        total = int(tail["end_line"])
        _, head = page(10, 0, "desc")
        offset = next(
            i for i, text in enumerate(head["content"].splitlines()) if text[:1].isdigit()
        )  # the service's own "[trainjobs] staged ..." lines come first
        print(f"{total:,} lines ({offset} from the service first)")
        print(f"first request, no index yet (builds it): {cold:.1f} ms")

        def verify(body: dict[str, str], first: int, last: int) -> None:
            window = logfiles.Window(
                int(body["start_line"]), int(body["end_line"]), body["content"]
            )
            check(window, first, last, offset)

        verify(tail, total - 49, total)
        server = psutil.Process(proc.pid)
        if hwm_ok:
            print(f"server peak RSS growth during that first request: {cold_grew:.1f} MiB")
            Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
        rss0 = rss_kib("VmRSS", proc.pid)
        cpu0 = sum(server.cpu_times()[:2])
        rng = random.Random(7)
        http_cases: list[tuple[str, int, Callable[[], int | None]]] = [
            ("file names (API floor)", 0, lambda: None),
            ("last 50", 50, lambda: None),
            ("middle 50 desc", 50, lambda: total // 2),
            ("random 50 desc", 50, lambda: rng.randrange(offset, total - 50)),
            ("middle 500 desc", 500, lambda: total // 2),
        ]
        print(f"\n{'request':<24} {'p50':>8} {'p99':>8} {'max':>8}   ms, {args.http_reads} each")
        requests = 0
        for label, lines, base_of in http_cases:
            walls = []
            for _ in range(args.http_reads):
                if lines == 0:
                    w0 = time.perf_counter()
                    client.get(f"{version}/log/file-names").raise_for_status()
                    walls.append((time.perf_counter() - w0) * 1000)
                    continue
                base_line = base_of()
                wall, body = page(lines, base_line, "desc")
                walls.append(wall)
                if base_line is None:
                    verify(body, total - lines + 1, total)
                else:
                    verify(body, base_line + 1, base_line + lines)
            requests += len(walls)
            print(f"{label:<24} {pct(walls, 50):>8.2f} {pct(walls, 99):>8.2f} {max(walls):>8.2f}")
        cpu_ms = (sum(server.cpu_times()[:2]) - cpu0) * 1000 / requests
        print(f"server CPU per request (all cases): {cpu_ms:.2f} ms")
        if hwm_ok:
            grew = (rss_kib("VmHWM", proc.pid) - rss0) / 1024
            print(f"server peak RSS growth during the requests: {grew:.1f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="log size")
    parser.add_argument("--append-mib", type=int, default=10)
    parser.add_argument("--reads", type=int, default=200, help="in-process reads per case")
    parser.add_argument("--http-reads", type=int, default=200, help="HTTP requests per case")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the temp dir")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 64 MiB, 20 reads")
    parser.add_argument("--emit_bytes", type=int, default=0, help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)  # as a boot file: --data_url, --train_url
    if args.emit_bytes:
        emit(args.emit_bytes)
        return
    if _unknown:
        parser.error(f"unrecognized arguments: {' '.join(_unknown)}")
    if args.quick:
        args.size_mib, args.append_mib, args.reads, args.http_reads = 64, 2, 20, 20

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"python {sys.version.split()[0]}; chunk {logfiles.CHUNK_BYTES // MIB} MiB"
    )
    work = Path(tempfile.mkdtemp(prefix="tj-logbench-", dir=args.work_dir))
    try:
        if not args.skip_in_process:
            in_process(args, work)
        if not args.skip_http:
            end_to_end(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
