"""Status codes as a client shows them (SDK.md §7)."""

from __future__ import annotations

NAMES: dict[int, str] = {
    0: "UNKNOWN",
    1: "INIT",
    2: "IMAGE_CREATING",
    3: "IMAGE_FAILED",
    4: "SUBMIT_TRYING",
    5: "SUBMIT_FAILED",
    6: "DELETE_FAILED",
    7: "WAITING",
    8: "RUNNING",
    9: "KILLING",
    10: "COMPLETED",
    11: "FAILED",
    12: "KILLED",
    13: "CANCELED",
    14: "LOST",
    15: "SCALING",
    16: "SUBMIT_MODEL_FAILED",
    17: "DEPLOY_SERVICE_FAILED",
    18: "CHECK_INIT",
    19: "CHECK_RUNNING",
    20: "CHECK_RUNNING_COMPLETED",
    21: "CHECK_FAILED",
    22: "MOUNT_FAILED",
}
COMPLETED = 10
# SDK.md's proposed terminal set plus the two the service also treats as final.
TERMINAL = frozenset({3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 20, 21, 22})


def status_name(code: int) -> str:
    return NAMES.get(code, f"STATUS_{code}")


def is_terminal(code: int) -> bool:
    return code in TERMINAL
