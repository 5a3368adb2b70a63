"""What the service puts in front of a run's own code, and nowhere else.

``RUN_PYTHONPATH`` is a folder that goes on the ``PYTHONPATH`` of runs only:
it holds ``moxing``, the ModelArts file library that training scripts import
as ``import moxing as mox``. It is not a package of the server's environment,
so nothing outside a run can import ``moxing`` by accident.
"""

from __future__ import annotations

from pathlib import Path

RUN_PYTHONPATH = Path(__file__).resolve().parent / "runpath"
