"""What this machine offers: cores, memory and GPUs, read once."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import psutil

GIB = 1024**3


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory_gib: float


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gib: int
    gpus: tuple[Gpu, ...]


def describe_machine() -> Machine:
    return Machine(
        cores=psutil.cpu_count(logical=True) or 1,
        memory_gib=max(1, round(psutil.virtual_memory().total / GIB)),
        gpus=tuple(_nvidia_gpus()),
    )


def _nvidia_gpus() -> list[Gpu]:
    """GPUs through NVML; none where there is no driver."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - NVML raises its own error types when no driver exists
        return []
    gpus = []
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            if isinstance(name, bytes):
                name = name.decode()
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total / GIB
            gpus.append(Gpu(index=index, name=str(name), memory_gib=round(memory, 1)))
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
    return gpus
