"""Unknown keys in a ``config`` that look like a known key mistyped.

Unknown keys are ignored, since clients send whole job objects back (D6);
but one that is a near miss of a known key (``parameters``, ``paramter``,
``bootfile_url``) is almost always a typo whose value would be silently lost,
so it is refused, naming the key it resembles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_EDITS = 2


class NearMissKey(ValueError):
    def __init__(self, key: str, resembles: str) -> None:
        self.key = key
        self.resembles = resembles
        super().__init__(
            f"unknown key {key!r} looks like {resembles!r}; "
            f"write {resembles!r} (or leave the key out)"
        )


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of neighbours each count one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ca != cb),
            )
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _folded(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def resembles(key: str, known: Iterable[str]) -> str | None:
    """The known key that ``key`` is a near miss of, or None."""
    folded = _folded(key)
    best: tuple[int, str] | None = None
    for name in known:
        if key == name:
            return None
        target = _folded(name)
        if folded == target or folded in (target + "s", target + "es") or target == folded + "s":
            return name
        if abs(len(key) - len(name)) > MAX_EDITS:
            continue
        edits = _edits(key.lower(), name.lower())
        if edits <= MAX_EDITS and (best is None or edits < best[0]):
            best = (edits, name)
    return best[1] if best else None


def refuse_near_miss_keys(
    data: Mapping[str, Any], known: Iterable[str], tolerated: Iterable[str] = ()
) -> None:
    """Raise NearMissKey for the first unknown key of ``data`` that is a near miss of
    a ``known`` one; keys in ``tolerated`` (fields of the objects the API returns)
    and keys far from every known one pass."""
    names = tuple(known)
    allowed = set(names) | set(tolerated)
    for key in data:
        if not isinstance(key, str) or key in allowed:
            continue
        match = resembles(key, names)
        if match is not None:
            raise NearMissKey(key, match)
