"""What the Ray executor keeps of a run in its state folder, so a restarted server
finds it again, and the lines it adds to a worker's log."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainjobs.executors.base import Bind, WorkerSpec

STATE_FILE = "ray.json"


@dataclass(frozen=True)
class RunRecord:
    """What the state folder keeps of a run, for a server that restarts."""

    run_id: str
    group: str
    actors: list[str]
    workers: list[dict[str, Any]]
    resources: dict[str, Any]
    policy: dict[str, Any] = field(default_factory=dict)  # the sandbox, as every node applies it
    # NodeStaging's wire form: each node builds a run folder of its own; {} on shared storage
    staging: dict[str, Any] = field(default_factory=dict)

    def save(self, state_dir: Path) -> None:
        tmp = state_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, state_dir / STATE_FILE)

    @classmethod
    def load(cls, state_dir: Path) -> RunRecord | None:
        try:
            raw = json.loads((state_dir / STATE_FILE).read_text())
            return cls(**raw)
        except (OSError, ValueError, TypeError):
            return None

    def worker_specs(self) -> list[WorkerSpec]:
        return [
            WorkerSpec(
                argv=list(w["argv"]),
                cwd=Path(w["cwd"]),
                log_path=Path(w["log_path"]),
                env=dict(w["env"]),
                binds=tuple(Bind.from_wire(b) for b in w.get("binds", ())),
                scratch=Path(w["scratch"]) if w.get("scratch") else None,
            )
            for w in self.workers
        ]


def note(path: Path, message: str) -> None:
    with contextlib.suppress(OSError), open(path, "a") as f:
        f.write(f"[trainjobs] {message}\n")
