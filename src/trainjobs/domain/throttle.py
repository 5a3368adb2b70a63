"""Failed logins are throttled: a short lockout after repeated failures, per user and per address.

Passwords and secret keys cannot then be guessed at full speed, and one
address cannot lock out a user it is guessing for everyone else past the short
lockout. Kept in memory: each server counts the failures it sees.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_FAILURES = 5  # for one user within WINDOW_S, then locked for LOCKOUT_S
ADDRESS_FACTOR = 4  # one address may fail for several users (a shared gateway) before its lock
ADDRESS_PREFIX = "addr:"
WINDOW_S = 60.0
LOCKOUT_S = 30.0
MAX_TRACKED = 100_000  # oldest entries go first: memory stays bounded under a flood


@dataclass
class _Entry:
    failures: int = 0
    first_at: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        lockout_s: float = LOCKOUT_S,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def locked_for(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until every key may try again; 0 when none is locked."""
        if self.max_failures <= 0:  # throttling turned off
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [e.locked_until - now for k in keys if (e := self._entries.get(k))]
        return max([0.0, *waits])

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                entry = self._entries.pop(key, None) or _Entry(first_at=now)
                if now - entry.first_at > self.window_s:
                    entry = _Entry(first_at=now)
                entry.failures += 1
                limit = self.max_failures
                if key.startswith(ADDRESS_PREFIX):
                    limit *= ADDRESS_FACTOR
                if self.max_failures > 0 and entry.failures >= limit:
                    entry.locked_until = now + self.lockout_s
                    entry.failures, entry.first_at = 0, now
                self._entries[key] = entry
            while len(self._entries) > MAX_TRACKED:
                self._entries.popitem(last=False)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)
