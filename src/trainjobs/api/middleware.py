"""Pure ASGI middleware: body size limit, body text checks, NUL in URLs, trailing slashes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trainjobs.api.errors import HTTP_CODES, INVALID_PARAMETER


def _too_large_message(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


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


def _speaks_keystone(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    # Keystone's API, and Huawei IAM's /v3.0 beside it (temporary credentials).
    return path in ("/v3", "/v3.0") or path.startswith(("/v3/", "/v3.0/"))


async def _send_error(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    """A failure found before the app's handlers, in the shape of the route's family:
    Keystone's on /v3 (as ``api/errors.py`` renders it), the ModelArts envelope elsewhere."""
    if _speaks_keystone(scope):
        error = {"code": status, "title": HTTPStatus(status).phrase, "message": message}
        await _send_json(send, status, {"error": error})
        return
    envelope = {
        "is_success": False,
        "error_code": code,
        "error_message": message,
        "error_msg": message,
    }
    await _send_json(send, status, envelope)
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
                message = _too_large_message(self.limit)
                await _send_error(scope, send, 413, HTTP_CODES[413], message)
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
                if scope.get("path", "").startswith("/console"):
                    await _send_page(send, 400, message)
                else:
                    await _send_error(scope, send, 400, INVALID_PARAMETER, message)
                return
        await self.app(scope, receive, send)


class JsonBodies:
    """Reads every request body as JSON: the API speaks nothing else, and raw
    HTTP clients often send JSON under a form or missing content type.

    It also refuses, for every route at once, text that no layer behind could
    store or compare: lone UTF-16 surrogates (valid JSON escapes, but not
    Unicode text: encoding them fails) and NUL (which PostgreSQL text refuses).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("POST", "PUT", "PATCH")
            or scope.get("path", "").startswith(PASSTHROUGH_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-type"]
        headers.append((b"content-type", b"application/json"))
        scope = {**scope, "headers": headers}
        try:
            body, ending = await _read_body(receive)
        except HTTPException as exc:  # over the size limit, as streamed
            code = HTTP_CODES.get(exc.status_code, INVALID_PARAMETER)
            await _send_error(scope, send, exc.status_code, code, str(exc.detail))
            return
        if ending is None:
            problem = unusable_text(body)
            if problem:
                await _send_error(scope, send, 400, INVALID_PARAMETER, problem)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            if ending is not None:
                return ending
            return await receive()

        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, and the message that cut it short (a disconnect), if any."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), message
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), None


# Only a body with one of these escapes can decode to a surrogate or a NUL;
# others are not parsed here.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")


def unusable_text(body: bytes) -> str:
    """Why a JSON body's text cannot be used, or "" (also for a body that is no
    JSON: the route's own validation says what is wrong with it)."""
    if b"\x00" not in body and not _SUSPECT_ESCAPE.search(body):
        return ""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "text in the body must not contain NUL characters"
            if _has_surrogate(item):
                return (
                    "text in the body must be valid Unicode: a lone UTF-16 surrogate "
                    "(\\ud800-\\udfff) is not a character; send the character itself"
                )
    return ""


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
