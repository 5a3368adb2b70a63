"""The version status machine, declared once.

Values are the ModelArts job statuses (0-21). Only the statuses that trainjobs
itself produces have transitions; the others exist so that any stored or
filtered value can be named.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    UNKNOWN = 0
    INIT = 1
    IMAGE_CREATING = 2
    IMAGE_FAILED = 3
    SUBMIT_TRYING = 4
    SUBMIT_FAILED = 5
    DELETE_FAILED = 6
    WAITING = 7
    RUNNING = 8
    KILLING = 9
    COMPLETED = 10
    FAILED = 11
    KILLED = 12
    CANCELED = 13
    LOST = 14
    SCALING = 15
    SUBMIT_MODEL_FAILED = 16
    DEPLOY_SERVICE_FAILED = 17
    CHECK_INIT = 18
    CHECK_RUNNING = 19
    CHECK_RUNNING_COMPLETED = 20
    CHECK_FAILED = 21

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        """Whether something may still be running for a version in this status."""
        return self in ACTIVE


TERMINAL = frozenset(
    {
        Status.IMAGE_FAILED,
        Status.SUBMIT_FAILED,
        Status.DELETE_FAILED,
        Status.COMPLETED,
        Status.FAILED,
        Status.KILLED,
        Status.CANCELED,
        Status.LOST,
        Status.SUBMIT_MODEL_FAILED,
        Status.DEPLOY_SERVICE_FAILED,
        Status.CHECK_RUNNING_COMPLETED,
        Status.CHECK_FAILED,
    }
)

ACTIVE = frozenset({Status.INIT, Status.WAITING, Status.RUNNING, Status.KILLING})

# The lifecycle trainjobs drives. A process that ends on its own while being
# stopped keeps the status it earned, hence KILLING -> COMPLETED / FAILED.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.INIT: frozenset(
        {Status.WAITING, Status.RUNNING, Status.FAILED, Status.CANCELED, Status.LOST}
    ),
    Status.WAITING: frozenset({Status.RUNNING, Status.FAILED, Status.CANCELED, Status.LOST}),
    Status.RUNNING: frozenset(
        {Status.KILLING, Status.COMPLETED, Status.FAILED, Status.KILLED, Status.LOST}
    ),
    Status.KILLING: frozenset({Status.KILLED, Status.COMPLETED, Status.FAILED, Status.LOST}),
}


def can_transition(current: Status, new: Status) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def sources_of(new: Status) -> frozenset[Status]:
    """Every status from which ``new`` may be entered."""
    return frozenset(s for s, targets in TRANSITIONS.items() if new in targets)
