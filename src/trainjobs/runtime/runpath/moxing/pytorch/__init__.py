"""Not provided in trainjobs runs: importing it says what is."""

from __future__ import annotations

from .._unsupported import refuse

raise refuse("moxing.pytorch")
