"""Keys of a bucket in S3's order (by UTF-8 bytes), one page at a time.

Folders are walked lazily in key order, so a page costs the folders along its
way, not the whole bucket: a folder wholly before the start point or outside
the prefix is never opened.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec

from trainjobs.objectstore.store import FOLDER_MARKER
from trainjobs.s3 import errors

# The marker file that keeps an empty bucket on S3; inside a folder it is the
# folder's own key (``a/b/`` is stored as ``a/b/.trainjobs-bucket``), so a folder
# made on purpose is an object, as on S3, while one that only holds keys is not.
MARKER = FOLDER_MARKER
HIDDEN = frozenset({MARKER})


@dataclass(frozen=True)
class Item:
    key: str
    info: dict[str, Any]


@dataclass
class Page:
    contents: list[Item] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_marker: str = ""  # the last key or common prefix of the page


def _order(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def _children(fs: fsspec.AbstractFileSystem, path: str) -> list[tuple[str, bool, dict[str, Any]]]:
    try:
        listing = fs.ls(path, detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return []
    # ``ls`` of a file answers the file itself: it holds no keys.
    if len(listing) == 1 and str(listing[0]["name"]).rstrip("/") == path.rstrip("/"):
        return []
    out = []
    for info in listing:
        name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
        if not name or info.get("islink"):
            continue
        out.append((name, info.get("type") == "directory", info))
    out.sort(key=lambda c: _order(c[0] + "/" if c[1] else c[0]))
    return out


EMPTY_ETAG = '"d41d8cd98f00b204e9800998ecf8427e"'  # the MD5 of no bytes, as S3 gives


def folder_info(marker: dict[str, Any]) -> dict[str, Any]:
    """A folder key's metadata, from its marker file's."""
    return {**marker, "size": 0, "ETag": EMPTY_ETAG}


def walk(
    fs: fsspec.AbstractFileSystem,
    bucket: str,
    prefix: str,
    after: str,
    delimiter: str,
) -> Iterator[tuple[str, bool, dict[str, Any]]]:
    """(key or common prefix, is a common prefix, info) after ``after``, in order."""
    start = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    yield from _walk(fs, bucket, start, prefix, after, delimiter)


def _wanted_dir(folder: str, prefix: str, after: str) -> bool:
    if not (folder.startswith(prefix) or prefix.startswith(folder)):
        return False
    # Every key under the folder sorts before ``after`` unless ``after`` lies inside it.
    return not (_order(after) > _order(folder) and not after.startswith(folder))


def _walk(
    fs: fsspec.AbstractFileSystem,
    bucket: str,
    folder: str,
    prefix: str,
    after: str,
    delimiter: str,
) -> Iterator[tuple[str, bool, dict[str, Any]]]:
    path = f"{bucket}/{folder}".rstrip("/")
    children = _children(fs, path)
    for name, is_dir, info in children:
        # The folder's own key sorts before every key under it.
        own = name == MARKER and not is_dir and folder
        if own and folder.startswith(prefix) and _order(folder) > _order(after):
            yield folder, False, folder_info(info)
    for name, is_dir, info in children:
        if name == MARKER:
            continue
        key = folder + name
        if is_dir:
            sub = key + "/"
            if not _wanted_dir(sub, prefix, after):
                continue
            if delimiter == "/" and sub.startswith(prefix):
                if _order(sub) > _order(after) and not after.startswith(sub):
                    yield sub, True, info
                continue
            yield from _walk(fs, bucket, sub, prefix, after, delimiter)
        elif key.startswith(prefix) and _order(key) > _order(after):
            yield key, False, info


def page(
    fs: fsspec.AbstractFileSystem,
    bucket: str,
    prefix: str,
    after: str,
    delimiter: str,
    max_keys: int,
) -> Page:
    result = Page()
    count = 0
    last_prefix = ""
    for key, is_prefix, info in walk(fs, bucket, prefix, after, delimiter):
        common = ""
        if is_prefix:
            common = key
        elif delimiter and delimiter != "/":
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[: cut + len(delimiter)]
        if common and common == last_prefix:
            continue
        if common and after.startswith(common):
            continue  # the previous page ended inside this prefix
        if count == max_keys:
            result.truncated = True
            break
        if common:
            result.prefixes.append(common)
            last_prefix = common
            result.next_marker = common
        else:
            result.contents.append(Item(key, info))
            result.next_marker = key
        count += 1
    return result


def resume_point(marker: str, delimiter: str) -> str:
    """Where a page after ``marker`` starts: past every key of a common prefix."""
    if delimiter and marker.endswith(delimiter):
        return marker + "\U0010ffff"
    return marker


def encode_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode("utf-8", "surrogateescape")).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise errors.InvalidArgument("the continuation token provided is incorrect") from exc
