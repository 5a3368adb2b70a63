"""The version status machine, as the domain names it.

It is declared in ``trainjobs.statuses``, below both the domain and the store,
so that the store's compare-and-set needs nothing from the domain.
"""

from trainjobs.statuses import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    Status,
    can_transition,
    sources_of,
)

__all__ = ["ACTIVE", "TERMINAL", "TRANSITIONS", "Status", "can_transition", "sources_of"]
