"""The server logs one line per request (Combined Log Format) and one per status change."""

from __future__ import annotations

import re
import time

from conftest import Server
from trainjobs.api.access_log import line

CLF = re.compile(
    r'(?P<host>\S+) - - \[(?P<when>[^\]]+)\] "(?P<request>[^"\\]*(?:\\.[^"\\]*)*)" '
    r'(?P<status>\d{3}) (?P<size>\d+|-) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" (?P<ms>[\d.]+)ms$'
)


def _log(server: Server) -> str:
    return (server.data_dir.parent / f"serve-{server.port}.log").read_text(errors="replace")


def _wait_for(server: Server, needle: str) -> str:
    deadline = time.monotonic() + 30
    while needle not in (text := _log(server)):
        assert time.monotonic() < deadline, f"no log line with {needle!r}"
        time.sleep(0.05)
    return text


def test_one_combined_log_line_per_request(server: Server) -> None:
    marker = f"/v1/{server.project_id}/training-jobs?search_content=accesslog{time.time_ns()}"
    assert server.client.get(marker, headers={"User-Agent": "probe/1.0"}).status_code == 200
    text = _wait_for(server, "accesslog")
    lines = [ln for ln in text.splitlines() if "accesslog" in ln]
    assert len(lines) == 1, lines
    found = CLF.search(lines[0])
    assert found, lines[0]
    assert " INFO trainjobs.access: " in lines[0]
    assert found["host"] == "127.0.0.1" and found["status"] == "200"
    assert found["request"] == f"GET {marker} HTTP/1.1" and found["agent"] == "probe/1.0"
    assert int(found["size"]) > 0
    # The token never reaches the log.
    assert server.token not in text


def test_refused_requests_are_logged_too(server: Server) -> None:
    path = f"/v1/{server.project_id}/no-such-route-{time.time_ns()}"
    assert server.client.get(path).status_code == 404
    text = _wait_for(server, path)
    assert CLF.search(next(ln for ln in text.splitlines() if path in ln))["status"] == "404"  # type: ignore[index]


def test_one_line_per_status_change(server: Server) -> None:
    created = server.create_job("print('hi')\n")
    job, version = created["job_id"], created["version_id"]
    server.wait_status(job, version)
    text = _wait_for(server, f"version {version} of job {job}: COMPLETED")
    changes = [ln for ln in text.splitlines() if f"version {version} of job {job}:" in ln]
    assert [ln.rsplit(": ", 1)[1] for ln in changes] == ["INIT", "RUNNING", "COMPLETED"]
    assert all(" INFO trainjobs.versions: " in ln for ln in changes)


def test_control_characters_and_quotes_are_escaped() -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "raw_path": b'/a"b\x1b[31m\n\xff',
        "query_string": b"",
        "http_version": "1.1",
        "client": ("127.0.0.1", 5),
        "headers": [(b"user-agent", "bad\r\nagent\u00e9".encode("latin-1"))],
    }
    from datetime import UTC, datetime

    text = line(scope, 200, 10, 0.001, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert '/a\\"b\\x1b[31m\\x0a\\xff' in text
    assert '"bad\\x0d\\x0aagent\\xe9"' in text
    assert "[02/Jan/2026:03:04:05 +0000]" in text
    assert CLF.search(text), text
