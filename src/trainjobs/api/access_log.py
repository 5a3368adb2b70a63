"""One access-log line per request, at info level, in the Combined Log Format
that log tools read (Apache's and nginx's default), plus the time taken.

Only the request line, status, size, referrer and user agent are written:
never a header that may carry a secret. Bytes a client sent that a terminal
or a log parser would take for control are written escaped.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("trainjobs.access")


def _clean(text: str) -> str:
    """``text`` with quotes, backslashes and anything not printable ASCII escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isascii() and ch.isprintable():
            out.append(ch)
        else:
            # Request bytes arrive decoded as latin-1: one escape per byte.
            raw = bytes([ord(ch)]) if ord(ch) < 256 else ch.encode("utf-8", "surrogatepass")
            out.append("".join(f"\\x{b:02x}" for b in raw))
    return "".join(out)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return _clean(value.decode("latin-1"))
    return "-"


def line(scope: Scope, status: int, size: int, seconds: float, when: datetime) -> str:
    client = scope.get("client") or ("-", 0)
    path = scope.get("raw_path") or scope.get("path", "").encode()
    target = path.decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    request = f"{scope.get('method', '-')} {target} HTTP/{scope.get('http_version', '1.1')}"
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S %z")
    return (
        f'{client[0]} - - [{stamp}] "{_clean(request)}" {status} {size or "-"} '
        f'"{_header(scope, b"referer")}" "{_header(scope, b"user-agent")}" '
        f"{seconds * 1000:.1f}ms"
    )


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        when = datetime.now(UTC).astimezone()
        status, size = 500, 0

        async def sending(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(line(scope, status, size, time.perf_counter() - started, when))
