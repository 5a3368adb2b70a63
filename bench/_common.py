"""What the benchmarks share: a real ``trainjobs serve`` on a free loopback port,
and closed- or open-loop load from keep-alive client threads, with the CPU
time that the client, the server and the rest of the machine spent meanwhile."""

from __future__ import annotations

import http.client
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

HEALTH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
CREDENTIALS_FILE = "credentials.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def trainjobs_command() -> str:
    beside = Path(sys.executable).parent / "trainjobs"
    found = str(beside) if beside.exists() else shutil.which("trainjobs")
    if not found:
        raise SystemExit("no `trainjobs` command: install the project (make install) first")
    return found


@dataclass
class Server:
    data_dir: Path
    log_path: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    project_id: str = ""
    token: str = ""
    env: dict[str, str] = field(default_factory=dict)  # added to this process's environment

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [trainjobs_command(), "serve", "--data-dir", str(self.data_dir)]
                + ["--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        wait_healthy(self.proc, f"{self.base}/health", self.log_path, self.stop)
        creds = json.loads((self.data_dir / CREDENTIALS_FILE).read_text())
        self.project_id, self.token = creds["project_id"], creds["token"]
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc)


def wait_healthy(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, stop: Callable[[], None]
) -> None:
    """Wait until ``url`` answers 200; on the server's exit or a time-out, ``stop``
    it and exit with the tail of its log."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{_tail(log_path)}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop()
    raise SystemExit(f"the server did not become healthy:\n{_tail(log_path)}")


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Scenario:
    name: str
    per_page: int
    page: int
    rate: float = 0.0  # requests a second in all; 0: as fast as answered


@dataclass
class Result:
    scenario: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    client_cpu_ms: float  # per request
    server_cpu_ms: float  # per request
    other_cpu_pct: float  # of one core: what other processes on the machine used meanwhile
    response_bytes: int
    latencies_ms: list[float] = field(default_factory=list, repr=False)


def tree_cpu_s(pid: int | None) -> float:
    """CPU seconds a process and its live children have used (0 without one)."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in (root, *root.children(recursive=True)):
            t = proc.cpu_times()
            total += t.user + t.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Target:
    """One request the load repeats: to any loopback server, not only trainjobs."""

    port: int
    path: str
    params: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: bytes | None = None  # sent as application/json
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url_path(self) -> str:
        query = urllib.parse.urlencode(self.params)
        return f"{self.path}?{query}" if query else self.path

    def all_headers(self) -> dict[str, str]:
        if self.body is None:
            return dict(self.headers)
        return {"Content-Type": "application/json", **self.headers}


def page_target(server: Server, path: str, sc: Scenario) -> Target:
    """A page of a trainjobs listing, with the server's token."""
    params = {"per_page": str(sc.per_page), "page": str(sc.page)}
    return Target(server.port, path, params, headers={"X-Auth-Token": server.token})


class _HttpxClient:
    """A keep-alive ``httpx.Client`` (about 1 CPU ms a request here)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.client = httpx.Client(base_url=target.base, headers=target.all_headers(), timeout=60)

    def get(self) -> int:
        t = self.target
        return self.client.request(t.method, t.url_path, content=t.body).status_code

    def close(self) -> None:
        self.client.close()


class _StdlibClient:
    """A keep-alive ``http.client`` connection: several times cheaper than httpx."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.headers = target.all_headers()
        self.conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=60)

    def get(self) -> int:
        t = self.target
        self.conn.request(t.method, t.url_path, body=t.body, headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.conn.close()


CLIENTS: dict[str, type[_HttpxClient] | type[_StdlibClient]] = {
    "httpx": _HttpxClient,
    "stdlib": _StdlibClient,
}
CLIENT_ERRORS = (httpx.HTTPError, http.client.HTTPException, OSError)


def measure(
    target: Target,
    sc: Scenario,
    clients: int,
    seconds: float,
    warmup_s: float,
    client_kind: str = "httpx",
    server_pid: int | None = None,
) -> Result:
    """Repeat ``target`` from ``clients`` threads for ``seconds``; ``server_pid``'s
    CPU time (its whole tree's) is counted as the server's.

    ``sc.rate`` 0: closed loop, each client sends its next request as soon as the
    last one is answered (throughput at saturation; by Little's law the latency
    is then about clients / throughput). ``sc.rate`` > 0: open loop at that many
    requests a second in all, each timed from when it was due to be sent, so a
    server that falls behind shows it in the latency.
    """
    interval = clients / sc.rate if sc.rate > 0 else 0.0
    make = CLIENTS[client_kind]
    ready = threading.Barrier(clients + 1)
    go = threading.Event()
    stop_at = [0.0]
    per_thread: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    ended = [0.0] * clients

    def worker(n: int) -> None:
        lat = per_thread[n]
        client = make(target)

        def get() -> int:
            nonlocal client
            try:
                return client.get()
            except CLIENT_ERRORS:  # counted, and a fresh connection for the next one
                client.close()
                client = make(target)
                return 0

        try:
            warm_until = time.perf_counter() + warmup_s
            while time.perf_counter() < warm_until:
                get()
            ready.wait()
            go.wait()
            due = stop_at[0] - seconds + interval * n / clients  # staggered starts
            while True:
                t0 = time.perf_counter()
                if interval:
                    if due > t0:
                        time.sleep(due - t0)
                    t0, due = due, due + interval
                if t0 >= stop_at[0]:
                    break
                status = get()
                lat.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors[n] += 1
            ended[n] = time.perf_counter()
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    server0 = tree_cpu_s(server_pid)
    machine0 = _busy_s()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    go.set()
    for t in threads:
        t.join()
    elapsed = max(ended) - started
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    server1 = tree_cpu_s(server_pid)
    machine1 = _busy_s()
    latencies = sorted(x for lat in per_thread for x in lat)
    n = len(latencies)
    client_cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return Result(
        scenario=sc.name,
        requests=n,
        errors=sum(errors),
        seconds=elapsed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        rps=n / elapsed if elapsed > 0 else math.nan,
        client_cpu_ms=client_cpu * 1000 / max(1, n),
        server_cpu_ms=(server1 - server0) * 1000 / max(1, n),
        other_cpu_pct=max(0.0, (machine1 - machine0) - client_cpu - (server1 - server0))
        * 100
        / max(elapsed, 1e-9),
        response_bytes=0,
        latencies_ms=latencies,
    )


def merged(parts: Sequence[Result]) -> Result:
    """Several measurements of one scenario as one: the counts and times added,
    the percentiles of all their latencies, the CPU figures weighted."""
    latencies = sorted(x for r in parts for x in r.latencies_ms)
    n, seconds = len(latencies), sum(r.seconds for r in parts)

    def per_request(name: str) -> float:
        return sum(getattr(r, name) * r.requests for r in parts) / max(1, n)

    return Result(
        scenario=parts[0].scenario,
        requests=n,
        errors=sum(r.errors for r in parts),
        seconds=seconds,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        rps=n / seconds if seconds > 0 else math.nan,
        client_cpu_ms=per_request("client_cpu_ms"),
        server_cpu_ms=per_request("server_cpu_ms"),
        other_cpu_pct=sum(r.other_cpu_pct * r.seconds for r in parts) / max(seconds, 1e-9),
        response_bytes=parts[0].response_bytes,
        latencies_ms=latencies,
    )


def _busy_s() -> float:
    """CPU seconds the whole machine has spent busy, all cores together."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def client_overhead(clients: int, seconds: float, client_kind: str) -> float:
    """CPU ms per request that the client side alone costs, against a trivial
    server (stdlib, in another process) that answers a body the size of a
    per_page=10 page."""
    code = (
        "import http.server,sys\n"
        "b=b' ' * 19_500\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    protocol_version='HTTP/1.1'\n"
        "    def do_GET(self):\n"
        "        self.send_response(200);self.send_header('content-length',str(len(b)));"
        "self.end_headers();self.wfile.write(b)\n"
        "    def log_message(self,*a):pass\n"
        "http.server.ThreadingHTTPServer(('127.0.0.1',int(sys.argv[1])),H).serve_forever()\n"
    )
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)])
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/", Path(os.devnull), lambda: None)
        stub = Target(port, "/")
        r = measure(stub, Scenario("stub", 10, 1), clients, seconds, 0.2, client_kind, proc.pid)
        return r.client_cpu_ms
    finally:
        stop_process(proc)
