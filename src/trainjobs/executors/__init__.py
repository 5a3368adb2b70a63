"""Execution of runs; knows nothing of HTTP or SQL."""

from trainjobs.executors.base import Executor, RunHandle, RunOutcome, RunSpec, WorkerSpec

__all__ = ["Executor", "RunHandle", "RunOutcome", "RunSpec", "WorkerSpec"]
