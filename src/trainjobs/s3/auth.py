"""AWS Signature Version 4, in the ``Authorization`` header or a presigned URL's query.

botocore's signer computes the signature the client should have sent from the
request as received (the signed headers it names, the path as sent, the query
decoded and canonically re-encoded); this module only picks those parts out and
compares. The secret is looked up by access key; the key's project is the
namespace the request acts on.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from botocore.auth import EMPTY_SHA256_HASH, S3SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from trainjobs.s3 import errors

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_PRESIGNED_EXPIRES_S = 7 * 24 * 3600  # S3's own limit
DEFAULT_SKEW_S = 15 * 60.0
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Key:
    secret: str
    project_id: str


@dataclass(frozen=True)
class Received:
    method: str
    raw_path: str  # as sent: still percent-encoded
    query: Sequence[tuple[str, str]]  # decoded
    headers: Sequence[tuple[str, str]]  # names lower-case, in the order sent

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Principal:
    access_key: str
    project_id: str
    payload_sha256: str  # hex, or UNSIGNED-PAYLOAD: what the body must hash to


@dataclass(frozen=True)
class _Signature:
    access_key: str
    date: str  # the scope's yyyymmdd
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # yyyymmddThhmmssZ


class _Verifier(S3SigV4Auth):
    """botocore's S3 signer, signing exactly the headers the client named."""

    def __init__(self, secret: str, sig: _Signature, payload: str) -> None:
        super().__init__(Credentials("", secret), sig.service, sig.region)
        self._signed_names = sig.signed_headers
        self._payload = payload

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed_names:
            for value in request.headers.get_all(name) or []:
                chosen[name] = value
        return chosen

    def payload(self, request: AWSRequest) -> str:
        return self._payload


def expected_signature(received: Received, sig: _Signature, secret: str, payload: str) -> str:
    headers = HTTPHeaders()
    for name, value in received.headers:
        headers[name] = value
    request = AWSRequest(method=received.method, url=f"http://signed{received.raw_path}")
    request.headers = headers
    request.params = [(k, v) for k, v in received.query if k != "X-Amz-Signature"]
    request.context["timestamp"] = sig.timestamp
    verifier = _Verifier(secret, sig, payload)
    canonical = verifier.canonical_request(request)
    result: str = verifier.signature(verifier.string_to_sign(request, canonical), request)
    return result


def is_presigned(query: Sequence[tuple[str, str]]) -> bool:
    return any(k == "X-Amz-Algorithm" for k, _ in query)


def verify(
    received: Received,
    lookup: Callable[[str], Key | None],
    now: datetime,
    skew_s: float = DEFAULT_SKEW_S,
) -> Principal:
    """The caller's key and project, or the S3 error that refuses the request."""
    authorization = received.header("authorization")
    if authorization is not None:
        sig = _from_header(authorization, received)
        _check_skew(sig.timestamp, now, skew_s)
        payload = _header_payload(received)
    elif is_presigned(received.query):
        sig = _from_query(received.query, now, skew_s)
        payload = dict(received.query).get("X-Amz-Content-Sha256") or UNSIGNED_PAYLOAD
    else:
        raise errors.AccessDenied(
            "anonymous access is refused: sign requests with AWS Signature Version 4 using a "
            "trainjobs access key (trainjobs users create --with-aksk)"
        )
    key = lookup(sig.access_key)
    if key is None:
        raise errors.InvalidAccessKeyId(
            f"the access key {sig.access_key!r} does not exist or has expired"
        )
    wanted = expected_signature(received, sig, key.secret, payload)
    if not hmac.compare_digest(wanted, sig.signature):
        raise errors.SignatureDoesNotMatch(
            "the request signature we calculated does not match the signature you provided: "
            "check your secret key and signing method"
        )
    return Principal(sig.access_key, key.project_id, payload)


def _parse_credential(value: str, malformed: type[errors.S3Error]) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise malformed("the credential must read ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request")
    return parts[0], parts[1], parts[2], parts[3]


def _from_header(authorization: str, received: Received) -> _Signature:
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != ALGORITHM:
        raise errors.InvalidRequest(
            "the authorization mechanism you have provided is not supported: "
            f"use {ALGORITHM} (AWS Signature Version 4)"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if not fields.get(f)]
    if missing:
        raise errors.AuthorizationHeaderMalformed(f"the Authorization header lacks {missing}")
    ak, date, region, service = _parse_credential(
        fields["Credential"], errors.AuthorizationHeaderMalformed
    )
    timestamp = _header_timestamp(received)
    return _Signature(
        ak,
        date,
        region,
        service,
        _signed_names(fields["SignedHeaders"]),
        _signature(fields["Signature"]),
        timestamp,
    )


def _from_query(query: Sequence[tuple[str, str]], now: datetime, skew_s: float) -> _Signature:
    params = dict(query)
    bad = errors.AuthorizationQueryParametersError
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise bad(f"X-Amz-Algorithm must be {ALGORITHM}")
    needed = (
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    )
    missing = [n for n in needed if not params.get(n)]
    if missing:
        raise bad(f"a presigned URL needs {', '.join(missing)}")
    ak, date, region, service = _parse_credential(params["X-Amz-Credential"], bad)
    try:
        expires_s = int(params["X-Amz-Expires"])
    except ValueError as exc:
        raise bad("X-Amz-Expires must be a number of seconds") from exc
    if not 0 < expires_s <= MAX_PRESIGNED_EXPIRES_S:
        raise bad(f"X-Amz-Expires must be between 1 and {MAX_PRESIGNED_EXPIRES_S} seconds")
    signed_at = _parse_amz_date(params["X-Amz-Date"], bad)
    if now > signed_at + timedelta(seconds=expires_s):
        raise errors.AccessDenied("request has expired: the presigned URL is no longer valid")
    if signed_at - now > timedelta(seconds=skew_s):
        raise errors.AccessDenied("request is not valid yet: its X-Amz-Date is in the future")
    return _Signature(
        ak,
        date,
        region,
        service,
        _signed_names(params["X-Amz-SignedHeaders"]),
        _signature(params["X-Amz-Signature"]),
        params["X-Amz-Date"],
    )


def _signed_names(value: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in value.split(";") if n.strip())
    if "host" not in names:
        raise errors.AccessDenied("the signed headers must include host")
    return names


def _signature(value: str) -> str:
    if not _SIGNATURE.match(value):
        raise errors.SignatureDoesNotMatch("the signature must be 64 lower-case hex digits")
    return value


def _parse_amz_date(value: str, bad: type[errors.S3Error]) -> datetime:
    try:
        return datetime.strptime(value, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError as exc:
        raise bad("the date must read YYYYMMDDTHHMMSSZ") from exc


def _header_timestamp(received: Received) -> str:
    amz = received.header("x-amz-date")
    if amz is not None:
        _parse_amz_date(amz, errors.AccessDenied)
        return amz
    date = received.header("date")
    if date is None:
        raise errors.AccessDenied("a signed request needs an x-amz-date or Date header")
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError) as exc:
        raise errors.AccessDenied("the Date header is not an HTTP date") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(_AMZ_DATE)


def _check_skew(timestamp: str, now: datetime, skew_s: float) -> None:
    signed_at = _parse_amz_date(timestamp, errors.AccessDenied)
    if abs((now - signed_at).total_seconds()) > skew_s:
        raise errors.RequestTimeTooSkewed(
            "the difference between the request time and the server's time is too large: "
            "check the client machine's clock"
        )


def _header_payload(received: Received) -> str:
    declared = received.header("x-amz-content-sha256")
    if declared is None:
        if _has_body(received):
            raise errors.InvalidRequest(
                "missing required header for this request: x-amz-content-sha256"
            )
        return EMPTY_SHA256_HASH
    if declared == UNSIGNED_PAYLOAD or _HEX_SHA256.match(declared):
        return declared
    if declared.startswith("STREAMING-"):
        raise errors.NotImplementedHere(
            f"{declared} (aws-chunked) uploads are not supported here: sign the payload's "
            "SHA-256 or send UNSIGNED-PAYLOAD"
        )
    raise errors.InvalidArgument("x-amz-content-sha256 must be a SHA-256 or UNSIGNED-PAYLOAD")


def _has_body(received: Received) -> bool:
    length = received.header("content-length")
    chunked = received.header("transfer-encoding")
    return bool(chunked) or (length not in (None, "", "0"))
