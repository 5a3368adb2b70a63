"""The ImportError of the moxing parts that trainjobs does not provide."""

from __future__ import annotations

SUPPORTED = (
    "trainjobs provides only moxing's file API: `import moxing as mox` then mox.file.* "
    "(or `from moxing.framework import file`)"
)


def refuse(name: str) -> ImportError:
    return ImportError(
        f"{name} is not available in trainjobs runs; {SUPPORTED}. "
        "Use the framework's own training loop and copy data with mox.file.copy_parallel.",
        name=name,
    )
