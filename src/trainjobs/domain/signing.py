"""Verification of requests signed with SDK-HMAC-SHA256 (the Huawei Cloud SDKs' AK/SK scheme).

The client builds a canonical request::

    METHOD \\n canonical URI \\n canonical query \\n canonical headers \\n
    signed header names \\n hex SHA-256 of the body

signs ``SDK-HMAC-SHA256 \\n <X-Sdk-Date> \\n hex SHA-256(canonical request)``
with HMAC-SHA256 keyed by its secret key, and sends
``Authorization: SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<a;b>, Signature=<hex>``.
Everything here is a pure function of the request's parts, except
``ReplayGuard``, which remembers the signatures of changes already accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from trainjobs.domain.errors import InvalidSignature

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "x-sdk-date"
CONTENT_SHA256_HEADER = "x-sdk-content-sha256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DEFAULT_SKEW_S = 15 * 60
# 100k signatures of 64 hex characters are a few MiB: enough for ~110 signed
# requests a second, sustained over a 15-minute window, before the oldest go.
REPLAY_CAPACITY = 100_000
# How long after its first receipt a signature may arrive again: requests sent
# within one second of the client's clock carry the same one.
REPEAT_WINDOW_S = 3.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers, as received; ``headers`` names are lower case."""

    method: str
    path: str  # percent-decoded, as the server routes it
    query: Sequence[tuple[str, str]]  # decoded pairs, in the order received
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class Authorization:
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def is_signed(authorization: str) -> bool:
    """Whether an Authorization header claims this scheme (and not a bearer token)."""
    return authorization.strip().upper().startswith(ALGORITHM + " ")


def parse_authorization(value: str) -> Authorization:
    scheme, _, rest = value.strip().partition(" ")
    if scheme.upper() != ALGORITHM:
        raise InvalidSignature(f"the Authorization header must use the {ALGORITHM} scheme")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key.strip().lower()] = val.strip()
    access = fields.get("access", "")
    signed = fields.get("signedheaders", "")
    signature = fields.get("signature", "")
    if not (access and signed and signature):
        raise InvalidSignature(
            f"the {ALGORITHM} Authorization header needs Access=, SignedHeaders= and Signature="
        )
    names = tuple(name.strip().lower() for name in signed.split(";") if name.strip())
    return Authorization(access, names, signature.lower())


def signing_time(request: SignedRequest) -> datetime:
    text = request.header(DATE_HEADER)
    if not text:
        raise InvalidSignature("a signed request needs an X-Sdk-Date header (YYYYMMDDTHHMMSSZ)")
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidSignature(
            f"X-Sdk-Date {text.strip()!r} is not in the form YYYYMMDDTHHMMSSZ (UTC)"
        ) from exc


def check_freshness(signed_at: datetime, now: datetime, skew_s: float) -> None:
    off_s = (now - signed_at).total_seconds()
    if abs(off_s) > skew_s:
        when = "behind" if off_s > 0 else "ahead of"
        raise InvalidSignature(
            f"X-Sdk-Date {signed_at.strftime(DATE_FORMAT)} is {abs(off_s):.0f} s {when} the "
            f"server's clock ({now.strftime(DATE_FORMAT)}); at most {skew_s:.0f} s are allowed: "
            "sign the request again, and check the client's clock"
        )


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else, "/" included, is escaped.
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query))


def payload_sha256(request: SignedRequest) -> str:
    actual = hashlib.sha256(request.body).hexdigest() if request.body else EMPTY_SHA256
    declared = request.header(CONTENT_SHA256_HEADER)
    if declared is not None and request.body:
        if declared.strip() == UNSIGNED_PAYLOAD:
            # The API reads JSON bodies only; a body outside the signature could be swapped.
            raise InvalidSignature(
                "unsigned payloads are refused: sign the body (send it as application/json)"
            )
        if declared.strip().lower() != actual:
            raise InvalidSignature("X-Sdk-Content-Sha256 does not match the body")
    return actual


def canonical_request(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    lines = []
    for name in signed_headers:
        value = request.header(name)
        if value is None:
            raise InvalidSignature(f"the signed header {name!r} is not in the request")
        lines.append(f"{name}:{value.strip()}")
    return "\n".join(
        [
            request.method.upper(),
            canonical_uri(request.path),
            canonical_query(request.query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload_sha256(request),
        ]
    )


def string_to_sign(date_text: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{date_text}\n{digest}"


def compute_signature(secret_key: str, text: str) -> str:
    return hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify(request: SignedRequest, auth: Authorization, secret_key: str) -> None:
    """Raise ``InvalidSignature`` unless ``auth.signature`` signs exactly this request."""
    date_text = (request.header(DATE_HEADER) or "").strip()
    canonical = canonical_request(request, auth.signed_headers)
    expected = compute_signature(secret_key, string_to_sign(date_text, canonical))
    # Bytes, not str: compare_digest refuses non-ASCII text, and a signature
    # is whatever the client sent.
    sent = auth.signature.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(expected.encode(), sent):
        raise InvalidSignature(
            "the signature does not match the request: sign the method, path, query, "
            "signed headers and body exactly as sent, with the secret key of this access key"
        )


class ReplayGuard:
    """Refuses a signed request that changes something when its signature comes back
    later than a client could have sent it again.

    A signature covers ``X-Sdk-Date`` to the second, so a client that sends the
    same request twice within a second (a poller, two identical creates) sends
    the same signature twice: legitimately. The same signature arriving more
    than ``repeat_window_s`` after its first receipt was not signed anew: a
    replay. Reads are never refused: replaying one shows the replayer nothing
    that the request it copied did not already carry back.

    Bounded: past ``capacity`` the oldest entries are dropped first (their dates
    run out soonest). Each server process keeps its own.
    """

    def __init__(
        self, capacity: int = REPLAY_CAPACITY, repeat_window_s: float = REPEAT_WINDOW_S
    ) -> None:
        self.capacity = capacity
        self.repeat_window_s = repeat_window_s
        self._seen: OrderedDict[str, tuple[float, float]] = OrderedDict()  # first, until
        self._lock = threading.Lock()

    def admit(self, method: str, signature: str, valid_until_s: float, now_s: float) -> bool:
        """Record a signature; False if it is a replay of one seen before."""
        if method.upper() in SAFE_METHODS:
            return True
        with self._lock:
            while self._seen:
                oldest, (_first, until) = next(iter(self._seen.items()))
                if until > now_s and len(self._seen) < self.capacity:
                    break
                del self._seen[oldest]
            seen = self._seen.get(signature)
            if seen is not None and seen[1] > now_s:
                return now_s - seen[0] <= self.repeat_window_s
            self._seen[signature] = (now_s, valid_until_s)
            self._seen.move_to_end(signature)
            return True
