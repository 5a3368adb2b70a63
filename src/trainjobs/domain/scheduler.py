"""Resource-aware admission: first come, first served per pool.

A version asks for its spec's cores, memory and GPUs times its worker count.
It starts when the executor's free capacity holds that; until then it waits,
and nothing behind it in its pool may overtake it (so a large version is not
starved by a stream of small ones).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    cores: int
    memory_gib: float
    gpus: int

    def fits_in(self, other: Resources) -> bool:
        return (
            self.cores <= other.cores
            and self.memory_gib <= other.memory_gib + 1e-9
            and self.gpus <= other.gpus
        )

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.cores + other.cores, self.memory_gib + other.memory_gib, self.gpus + other.gpus
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.cores - other.cores, self.memory_gib - other.memory_gib, self.gpus - other.gpus
        )


NOTHING = Resources(0, 0.0, 0)


@dataclass(frozen=True)
class Grant:
    """What an admitted version holds: its resources and the core slots it is pinned to."""

    demand: Resources
    core_slots: tuple[int, ...]
    gpu_slots: tuple[int, ...]


class Cancelled(Exception):
    pass


class Scheduler:
    def __init__(self, capacity: Resources) -> None:
        self.capacity = capacity
        self._cond = threading.Condition()
        self._used = NOTHING
        self._free_cores = list(range(capacity.cores))
        self._free_gpus = list(range(capacity.gpus))
        self._grants: dict[int, Grant] = {}
        self._queues: dict[str, list[int]] = {}
        self._cancelled: set[int] = set()

    def can_ever_fit(self, demand: Resources) -> bool:
        return demand.fits_in(self.capacity)

    def fits_now(self, demand: Resources) -> bool:
        with self._cond:
            return demand.fits_in(self.capacity - self._used)

    @property
    def used(self) -> Resources:
        with self._cond:
            return self._used

    def acquire(self, key: int, pool: str, demand: Resources, on_wait: Callable[[], None]) -> Grant:
        """Block until ``demand`` is granted; ``on_wait`` runs once if it must wait.

        Keys are version ids: the queue of a pool is kept in their order, so
        versions start in the order they were created. Raises Cancelled when
        ``cancel(key)`` is called while it waits.
        """
        with self._cond:
            queue = self._place(key, pool)
            waited = False
            try:
                while True:
                    if key in self._cancelled:
                        raise Cancelled
                    if (grant := self._grant_if_next(key, queue, demand)) is not None:
                        return grant
                    if not waited:
                        waited = True
                        # on_wait writes to the store: not under the lock
                        self._cond.release()
                        try:
                            on_wait()
                        finally:
                            self._cond.acquire()
                        continue
                    self._cond.wait()
            finally:
                queue.remove(key)
                self._cancelled.discard(key)
                self._cond.notify_all()

    def try_acquire(self, key: int, pool: str, demand: Resources) -> Grant | None:
        """``demand`` granted now if ``key`` is next in its pool and it fits; else
        None, and ``key`` keeps its place for ``acquire``."""
        with self._cond:
            queue = self._place(key, pool)
            grant = None if key in self._cancelled else self._grant_if_next(key, queue, demand)
            if grant is not None:
                queue.remove(key)
                self._cond.notify_all()
            return grant

    def enqueue(self, key: int, pool: str) -> None:
        """Take ``key``'s place in its pool's queue before ``acquire`` is called.

        Versions queued again after a restart each get a thread; the places
        they take here keep them in creation order whichever thread runs first.
        """
        with self._cond:
            queue = self._queues.setdefault(pool, [])
            if key not in queue:
                bisect.insort(queue, key)

    def leave(self, key: int) -> None:
        """Give up a place taken by ``enqueue`` that ``acquire`` will never use."""
        with self._cond:
            for queue in self._queues.values():
                if key in queue:
                    queue.remove(key)
                    self._cond.notify_all()

    def reserve(self, key: int, demand: Resources) -> Grant:
        """Hold ``demand`` at once, without queueing: for runs adopted after a
        restart, which already run whatever the queue says."""
        with self._cond:
            grant = self._take(demand)
            self._grants[key] = grant
            return grant

    def cancel(self, key: int) -> None:
        """End the wait of ``key``, if it waits; a no-op otherwise."""
        with self._cond:
            if any(key in q for q in self._queues.values()):
                self._cancelled.add(key)
                self._cond.notify_all()

    def release(self, key: int) -> None:
        with self._cond:
            grant = self._grants.pop(key, None)
            if grant is None:
                return
            self._used = self._used - grant.demand
            self._free_cores = sorted(self._free_cores + list(grant.core_slots))
            self._free_gpus = sorted(self._free_gpus + list(grant.gpu_slots))
            self._cond.notify_all()

    def _place(self, key: int, pool: str) -> list[int]:
        """``key``'s place in its pool's queue (unless ``enqueue`` took it already)."""
        queue = self._queues.setdefault(pool, [])
        if key not in queue:
            bisect.insort(queue, key)
        return queue

    def _grant_if_next(self, key: int, queue: list[int], demand: Resources) -> Grant | None:
        if queue[0] != key or not demand.fits_in(self.capacity - self._used):
            return None
        grant = self._take(demand)
        self._grants[key] = grant
        return grant

    def _take(self, demand: Resources) -> Grant:
        # Reserved (adopted) runs may overcommit: then slots are shared, not exclusive.
        cores = tuple(self._free_cores[: demand.cores]) or tuple(range(demand.cores))
        gpus = tuple(self._free_gpus[: demand.gpus]) or tuple(range(demand.gpus))
        self._free_cores = self._free_cores[demand.cores :]
        self._free_gpus = self._free_gpus[demand.gpus :]
        self._used = self._used + demand
        return Grant(demand, cores, gpus)


def demand_of(core: str, memory_gib: str, gpus: int, workers: int) -> Resources:
    """A version's demand from its spec's figures (strings on the wire) and worker count."""
    return Resources(
        cores=max(1, _number(core)) * workers,
        memory_gib=float(_number(memory_gib)) * workers,
        gpus=gpus * workers,
    )


def _number(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0
