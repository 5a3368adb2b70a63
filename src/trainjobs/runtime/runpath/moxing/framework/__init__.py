"""``moxing.framework``: only its ``file`` module is provided."""

from __future__ import annotations

from . import file

__all__ = ["file"]
