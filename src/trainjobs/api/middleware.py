"""Pure ASGI middleware: body size limit and trailing-slash leniency."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trainjobs.api.errors import HTTP_CODES, INVALID_PARAMETER


def _too_large_message(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


async def _send_envelope(send: Send, status: int, code: str, message: str) -> None:
    """The error envelope, sent from middleware that runs outside the app's handlers."""
    envelope = {
        "is_success": False,
        "error_code": code,
        "error_message": message,
        "error_msg": message,
    }
    await _send_json(send, status, envelope)


async def _send_json(send: Send, status: int, content: Mapping[str, object]) -> None:
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_page(send: Send, status: int, message: str) -> None:
    """A failure the console's pages show as a page, not as the API's JSON."""
    body = (
        '<!doctype html><meta charset="utf-8"><title>Bad request · trainjobs</title>'
        f"<h1>Bad request</h1><p>{message}.</p>"
        '<p><a href="/console/jobs">Back to the training jobs</a></p>'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses bodies over ``limit`` bytes, declared or streamed, before they are read whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _send_envelope(send, 413, HTTP_CODES[413], _too_large_message(self.limit))
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # An HTTPException passes through the framework's body
                    # parsing untouched and is rendered by the error handler.
                    raise HTTPException(413, detail=_too_large_message(self.limit))
            return message

        await self.app(scope, limited_receive, send)


# The TensorBoard proxy passes paths and bodies through as the browser sent them.
PASSTHROUGH_PREFIX = "/tensorboard/"


class StripTrailingSlash:
    """Serves ``/path/`` as ``/path`` directly: clients do not follow redirects on POST."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and len(path) > 1
            and path.endswith("/")
            and not path.startswith(PASSTHROUGH_PREFIX)
        ):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


class RefuseNul:
    """A NUL in the path or query string is never meaningful here; refusing it at
    the door keeps it out of every layer behind."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"%00" in raw or b"\x00" in raw or "\x00" in scope.get("path", ""):
                message = "the URL must not contain NUL characters"
                if scope.get("path", "").startswith("/v3"):
                    # the identity API answers as Keystone does
                    body = {"error": {"code": 400, "title": "Bad Request", "message": message}}
                    await _send_json(send, 400, body)
                elif scope.get("path", "").startswith("/console"):
                    await _send_page(send, 400, message)
                else:
                    await _send_envelope(send, 400, INVALID_PARAMETER, message)
                return
        await self.app(scope, receive, send)


class JsonBodies:
    """Reads every request body as JSON: the API speaks nothing else, and raw
    HTTP clients often send JSON under a form or missing content type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") in ("POST", "PUT", "PATCH")
            and not scope.get("path", "").startswith(PASSTHROUGH_PREFIX)
        ):
            headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-type"]
            headers.append((b"content-type", b"application/json"))
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)
