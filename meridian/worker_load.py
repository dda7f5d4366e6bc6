"""The agent worker's load report, read in one place: by dispatch's probe of the worker's
`/worker` answer, and by the tools that show dispatch's copy of it (status, the smoke test).

livekit-agents 1.8.9 answers `/worker` with ``MessageToJson(WorkerInfo)``, and `active_jobs` is a
protobuf ``float`` there: one job reads ``"active_jobs": 1.0``, and an idle worker leaves the
field out (proto3 JSON omits zero values), so an idle-only test never sees the float.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# Bounds on what a worker may report before it is believed. Both are far above any real worker
# (a 4-vCPU replica runs a few dozen jobs at most) and exact in a protobuf float32, whose
# integers are exact up to 2**24.
MAX_ACTIVE_JOBS = 1_000_000
MAX_WORKER_LOAD = 1_000.0


class MalformedLoad(ValueError):
    """A load report that is not believed; `field` names the key, `problem` says why (both are
    fixed text, never the value that was sent)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class WorkerLoad:
    """How busy a worker says it is: running jobs, and its load (0..1 up to its threshold)."""

    active_jobs: int = 0
    worker_load: float = 0.0

    def as_json(self) -> dict[str, object]:
        """The report as dispatch serves it (in /healthz ``worker``)."""
        return {"active_jobs": self.active_jobs, "worker_load": self.worker_load}


def _finite_number(body: Mapping[str, object], key: str, upper: float) -> float:
    value = body.get(key)
    if value is None:
        return 0.0
    # bool is an int subclass, and JSON `true` is not a count
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedLoad(key, f"is a {type(value).__name__}, not a number")
    # an int is compared as it is: math.isfinite(10**400) raises OverflowError
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= upper:
        raise MalformedLoad(key, f"is out of range (0..{upper:g})")
    return value


def read_worker_load(body: Mapping[str, object]) -> WorkerLoad:
    """The load in a `/worker` answer (or in dispatch's /healthz ``worker``); a missing field is 0.

    `active_jobs` may be an integer or an integral float (``1.0``, as the framework sends it);
    anything else (fractional, negative, non-finite, boolean, text, past the bounds) raises
    MalformedLoad."""
    jobs = _finite_number(body, "active_jobs", MAX_ACTIVE_JOBS)
    if isinstance(jobs, float) and not jobs.is_integer():
        raise MalformedLoad("active_jobs", "is not a whole number")
    load = _finite_number(body, "worker_load", MAX_WORKER_LOAD)
    return WorkerLoad(active_jobs=int(jobs), worker_load=float(load))
