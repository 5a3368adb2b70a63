"""Hostile text in every string field, query parameter, path parameter and header of
every route: non-ASCII, lone surrogates, control characters. The server answers each
with its own verdict or a 4xx in the route family's error shape, never a 5xx.

The routes and their fields come from the service's OpenAPI document (built from
the app itself, so a new route is covered without touching this file); headers
the routes read themselves come from ``HEADERS``. Requests go over a raw socket:
HTTP clients refuse to send much of this, and the server must not depend on them.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Server
from iam_helpers import make_user
from trainjobs.app import create_app
from trainjobs.settings import Settings

SCHEMA: dict[str, Any] = create_app(Settings()).openapi()
METHODS = ("get", "post", "put", "patch", "delete")
EXAMPLES = 6

# Text that broke (or could break) a layer: encoders, comparisons, SQL, logs.
NASTY = [
    "é",
    "\udfff",
    "\ud800",
    "v\ud800",
    "\ud83d",  # half of an emoji
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m",
    "\r\n",
    "\x7f",
    "\u202e",
    "\ufeff",
    "\uffff",
    "\U0001f600",
    "\xff\xfe",
    "' OR 1=1 --",
    "%00",
    "../" * 8,
]
text = st.one_of(
    st.sampled_from(NASTY),
    # every code point, surrogates included
    st.text(st.characters(exclude_categories=()), max_size=24),
)


# -- the routes, from the OpenAPI document ------------------------------------------


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = SCHEMA["components"]["schemas"][name]
    return node


def _string_fields(
    node: dict[str, Any], path: tuple[Any, ...] = (), depth: int = 0
) -> Iterator[tuple[Any, ...]]:
    """The path of every string in a body schema ("0" steps into an array)."""
    node = _resolve(node)
    if depth > 6:
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            yield from _string_fields(option, path, depth + 1)
    kind = node.get("type")
    if kind == "string" or (
        not kind and not node.get("properties") and path and "anyOf" not in node
    ):
        yield path
    if kind == "array" and "items" in node:
        yield from _string_fields(node["items"], (*path, 0), depth + 1)
    for name, prop in node.get("properties", {}).items():
        yield from _string_fields(prop, (*path, name), depth + 1)


def _targets() -> list[tuple[str, str, str, Any]]:
    """(method, path template, where, which) for every string input of every route."""
    found: list[tuple[str, str, str, Any]] = []
    for template, item in SCHEMA["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            for parameter in operation.get("parameters", []):
                found.append((method, template, parameter["in"], parameter["name"]))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                paths = sorted(set(_string_fields(body["schema"])), key=str)
                found.extend((method, template, "body", p) for p in paths)
                found.append((method, template, "raw-body", None))
            for header in HEADERS:
                found.append((method, template, "header", header))
    return found


HEADERS = ["x-auth-token", "authorization", "x-sdk-date", "x-subject-token", "content-type",
           "x-sdk-content-sha256", "signature", "access"]  # fmt: skip
TARGETS = _targets()


def test_every_family_is_covered() -> None:
    templates = {t for _m, t, _w, _x in TARGETS}
    assert any(t.startswith("/v3") for t in templates)
    assert any(t.startswith("/v1") for t in templates)
    fields = [x for _m, t, w, x in TARGETS if w == "body"]
    assert ("config", "parameter", 0, "value") in fields
    assert ("auth", "identity", "password", "user", "name") in fields


# -- requests -------------------------------------------------------------------------


def _raw(port: int, method: str, target: bytes, headers: list[tuple[bytes, bytes]],
         body: bytes) -> tuple[int, bytes, bytes]:  # fmt: skip
    """One HTTP/1.1 exchange over a fresh connection: (status, content type, body)."""
    lines = [method.upper().encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Connection: close", b"Content-Length: " + str(len(body)).encode()]  # fmt: skip
    lines += [name + b": " + value for name, value in headers]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    status = int(status_line.split()[1])
    kind = b""
    for line in header_lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            kind = value.strip()
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            content = _dechunk(content)
    return status, kind, content


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def _wire(value: str) -> bytes:
    """Text as bytes on the wire; surrogates as the bytes a careless encoder makes."""
    return value.encode("utf-8", "surrogatepass")


def _header_bytes(value: str) -> bytes:
    # CR, LF and NUL end or break the header itself: the request would be another one.
    return bytes(b for b in _wire(value) if b not in b"\r\n\x00")


def _put(body: Any, path: tuple[Any, ...], value: str) -> Any:
    if not path:
        return value
    step, rest = path[0], path[1:]
    if step == 0:
        inner = body[0] if isinstance(body, list) and body else {}
        return [_put(inner, rest, value)]
    out = dict(body) if isinstance(body, dict) else {}
    out[step] = _put(out.get(step, {}), rest, value)
    return out


def _base_body(template: str, method: str, server: Server, app: tuple[str, str]) -> dict[str, Any]:
    """A body the route accepts, so that a hostile field reaches the layers behind."""
    if template.endswith("/training-jobs") and method == "post":
        return {"job_name": "hostile", "config": {"worker_server_num": 1, "spec_id": 1,
                "app_url": app[0], "boot_file_url": app[1], "parameter": [{"label": "a", "value": "1"}]}}  # fmt: skip
    if template.endswith("/versions") and method == "post":
        return {"config": {"parameter": [{"label": "a", "value": "1"}]}}
    if template == "/v3/auth/tokens":
        return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "nobody", "domain": {"name": "default"}, "password": "secret-password"}}}}}  # fmt: skip
    return {}


class Context:
    def __init__(
        self, server: Server, job_id: int, version_id: int, ak: str, app: tuple[str, str]
    ) -> None:
        self.server, self.job_id, self.version_id, self.ak, self.app = (
            server,
            job_id,
            version_id,
            ak,
            app,
        )

    def path_value(self, name: str, method: str) -> str:
        if name == "project_id":
            return str(self.server.project_id)
        if method == "delete":
            return "999999"  # the shared job stays for the routes after
        known = {"job_id": str(self.job_id), "version_id": str(self.version_id)}
        return known.get(name, "1")


@pytest.fixture(scope="module")
def context(server: Server) -> Context:
    created = server.create_job("print('hostile')\n")
    user = make_user(server, with_aksk=True)
    app = server.upload_script("pass\n")
    return Context(server, created["job_id"], created["version_id"], user["access_key"], app)


def _send(
    ctx: Context, method: str, template: str, where: str, which: Any, value: str
) -> tuple[int, bytes, bytes]:
    server = ctx.server
    path = template
    for name in [p.split("}")[0] for p in template.split("{")[1:]]:
        raw = value if (where == "path" and which == name) else ctx.path_value(name, method)
        path = path.replace("{" + name + "}", quote(_wire(raw), safe=""))
    query = b""
    if where == "query":
        query = b"?" + quote(which).encode() + b"=" + quote(_wire(value), safe="").encode()
    headers: list[tuple[bytes, bytes]] = [(b"X-Auth-Token", server.token.encode())]
    body = b""
    if where in ("body", "raw-body") or method in ("post", "put", "patch"):
        # Only a body target needs a body that gets far (the token route's costs
        # a password hash a request); the others send an empty object.
        document = _base_body(template, method, server, ctx.app) if where == "body" else {}
        if where == "body":
            document = _put(document, which, value)
        body = json.dumps(document).encode()  # lone surrogates leave as \\udxxx escapes
        if where == "raw-body":
            body = body[:-1] + b', "x": "' + _header_bytes(value).replace(b'"', b"") + b'"}'
            if body.startswith(b"{,"):
                body = b"{" + body[2:]
        headers.append((b"Content-Type", b"application/json"))
    if where == "header":
        date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ").encode()
        hostile = _header_bytes(value)
        if which == "signature":
            headers = [(b"Authorization", b"SDK-HMAC-SHA256 Access=" + ctx.ak.encode() +
                        b", SignedHeaders=x-sdk-date, Signature=" + hostile), (b"X-Sdk-Date", date)]  # fmt: skip
        elif which == "access":
            headers = [(b"Authorization", b"SDK-HMAC-SHA256 Access=" + hostile +
                        b", SignedHeaders=x-sdk-date, Signature=00"), (b"X-Sdk-Date", date)]  # fmt: skip
        elif which == "authorization":
            headers = [(b"Authorization", hostile)]
        elif which == "x-auth-token":
            headers = [(b"X-Auth-Token", hostile)]
        else:
            headers.append((which.encode(), hostile))
    return _raw(server.port, method, path.encode() + query, headers, body)


def _check(template: str, status: int, kind: bytes, content: bytes, what: str) -> None:
    assert status < 500, f"{what}: {status} {content[:300]!r}"
    if status < 400:
        return
    if kind != b"application/json":
        # Only the HTTP parser refuses a request before the app sees it (a request
        # line or header no HTTP/1.1 server accepts): a plain 400, no route family.
        assert status == 400 and b"Invalid HTTP request" in content, f"{what}: {content[:300]!r}"
        return
    body = json.loads(content)
    if template.startswith("/v3"):
        assert body.get("error", {}).get("code") == status, f"{what}: {body}"
    else:
        assert body.get("is_success") is False, f"{what}: {body}"
        assert str(body.get("error_code", "")).startswith("ModelArts."), f"{what}: {body}"


@pytest.mark.parametrize(("method", "template", "where", "which"), TARGETS,
                         ids=[f"{m}-{t}-{w}-{x}" for m, t, w, x in TARGETS])  # fmt: skip
def test_hostile_text_never_faults(context: Context, method: str, template: str, where: str,
                                   which: Any) -> None:  # fmt: skip
    @given(value=text)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(value: str) -> None:
        status, kind, content = _send(context, method, template, where, which, value)
        _check(
            template,
            status,
            kind,
            content,
            f"{method.upper()} {template} {where} {which} {value!r}",
        )

    run()


# -- the cases found by hand ------------------------------------------------------------


def _signed_headers(ak: str, signature: bytes) -> list[tuple[bytes, bytes]]:
    date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ").encode()
    authorization = (
        b"SDK-HMAC-SHA256 Access=" + ak.encode() + b", SignedHeaders=x-sdk-date, Signature="
    )
    return [(b"Authorization", authorization + signature), (b"X-Sdk-Date", date)]


@pytest.mark.parametrize("signature", ["é".encode(), b"\xff\xfe"], ids=["non-ascii", "raw-bytes"])
def test_a_non_ascii_signature_is_401(context: Context, signature: bytes) -> None:
    server = context.server
    headers = _signed_headers(context.ak, signature)
    status, _kind, content = _raw(
        server.port, "GET", f"{server.v1}/training-jobs".encode(), headers, b""
    )
    assert status == 401 and json.loads(content)["error_code"] == "ModelArts.0203", content
    status, _kind, content = _raw(server.port, "GET", b"/v3/projects", headers, b"")
    assert status == 401 and json.loads(content)["error"]["code"] == 401, content


def _post_json(server: Server, path: str, document: Any) -> tuple[int, Any]:
    body = json.dumps(document).encode()
    headers = [(b"X-Auth-Token", server.token.encode()), (b"Content-Type", b"application/json")]
    status, _kind, content = _raw(server.port, "POST", path.encode(), headers, body)
    return status, json.loads(content)


def test_lone_surrogates_in_bodies_are_400(context: Context) -> None:
    server = context.server
    versions = f"{server.v1}/training-jobs/{context.job_id}/versions"
    for value in ("\udfff", "x\ud800y"):
        status, body = _post_json(
            server, versions, {"config": {"parameter": [{"label": "x", "value": value}]}}
        )
        assert status == 400 and body["error_code"] == "ModelArts.0104", body
        assert "surrogate" in body["error_message"]
    bodies = [
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "v\ud800", "domain": {"name": "default"}, "password": "whatever-it-is"}}}}},
        {"auth": {"identity": {"methods": ["hw_ak_sk"], "hw_ak_sk": {
            "access": {"key": "\ud800"}, "secret": {"key": "x"}}}}},
    ]  # fmt: skip
    for document in bodies:
        status, body = _post_json(server, "/v3/auth/tokens", document)
        assert status == 400 and body["error"]["code"] == 400, body


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversize_body_has_its_familys_shape_whatever_the_framing(
    server: Server, chunked: bool
) -> None:
    import httpx

    big = b'{"x": "' + b"a" * (2 << 20) + b'"}'

    def content() -> Any:
        if not chunked:
            return big
        return (big[i : i + 65536] for i in range(0, len(big), 65536))

    keystone = httpx.post(f"{server.base}/v3/auth/tokens", content=content(), timeout=60)
    assert keystone.status_code == 413, keystone.text
    assert keystone.json()["error"]["code"] == 413
    modelarts = server.client.post(f"{server.v1}/training-jobs", content=content(), timeout=60)
    assert modelarts.status_code == 413, modelarts.text
    assert modelarts.json()["error_code"] == "ModelArts.4104"
