"""S3's XML in and out, through xmltodict: bodies are built as dictionaries and
parsed back into them, never formatted or scanned by hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.parsers.expat import ExpatError

import xmltodict

from trainjobs.s3.errors import MalformedXML, S3Error

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_MEDIA_TYPE = "application/xml"
MAX_XML_BODY_BYTES = 2 * 1024 * 1024  # DeleteObjects of 1,000 long keys fits
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text(value: str) -> str:
    """``value`` made printable in XML (a control character becomes ``\\xNN``)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def timestamp(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def encode_key(key: str, encoding: str) -> str:
    """A key as a listing carries it: with ``encoding-type=url`` percent-encoded
    (how botocore asks, so that any key survives XML)."""
    return quote(key, safe="/") if encoding == "url" else text(key)


def render(root: str, body: dict[str, Any], namespace: bool = True) -> bytes:
    content: dict[str, Any] = {"@xmlns": S3_NAMESPACE, **body} if namespace else dict(body)
    out: str = xmltodict.unparse({root: content}, encoding="utf-8", full_document=True)
    return out.encode("utf-8")


def error_body(error: S3Error, request_id: str) -> bytes:
    return render(
        "Error",
        {
            "Code": error.code,
            "Message": text(error.message),
            "Resource": text(error.resource),
            "RequestId": request_id,
        },
        namespace=False,
    )


def parse(body: bytes, root: str) -> dict[str, Any]:
    """The children of ``root`` in an XML request body (entities are refused)."""
    try:
        doc = xmltodict.parse(body, process_namespaces=False, disable_entities=True)
    except (ExpatError, ValueError) as exc:
        raise MalformedXML("the XML you provided was not well-formed") from exc
    if not isinstance(doc, dict) or len(doc) != 1:
        raise MalformedXML(f"the XML body must be one <{root}> element")
    name, content = next(iter(doc.items()))
    if name.rsplit(":", 1)[-1] != root:
        raise MalformedXML(f"expected <{root}>, found <{name}>")
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise MalformedXML(f"<{root}> holds no elements")
    # Namespace prefixes and attributes are no part of the request.
    return {k.rsplit(":", 1)[-1]: v for k, v in content.items() if not k.startswith("@")}


def as_list(value: Any) -> list[Any]:
    """xmltodict gives one repeated element as itself and several as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
