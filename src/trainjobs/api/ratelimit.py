"""Requests per second for each credential: a token bucket per token or access key."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict

from trainjobs.domain.errors import RateLimited

MAX_TRACKED = 10_000  # credentials remembered; the least recent are forgotten first


class RateLimiter:
    """``rate`` requests a second on average, ``burst`` at once; rate 0 turns it off."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, credential: str) -> None:
        if self.rate <= 0:
            return
        # keyed by a digest: the limiter holds no usable secret
        key = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                retry = math.ceil((1 - tokens) / self.rate)
                raise RateLimited(
                    f"more than {self.rate:g} requests a second with this credential; "
                    f"retry in {retry} s",
                    retry_after_s=retry,
                )
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
