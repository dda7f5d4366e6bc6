"""Section 5: the regions.yaml defaults that the capacity measurements support."""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.report import table

# Container Apps consumption sizes run 0.25-4 vCPU with 2 GiB per vCPU; 2 vCPU is the size
# measured here (this machine's core count), so the per-replica numbers carry over directly.
REPLICA_CPU = 2.0
REPLICA_MEMORY_GIB = 4.0
# Sessions one region should carry at peak, the stated target behind max replicas.
TARGET_SESSIONS_PER_REGION = 200
# Headroom kept below the measured limit, so a replica's last accepted session still holds.
HEADROOM = 0.85


@dataclass(frozen=True)
class ManifestDefaults:
    """Recommended defaults and the measured numbers behind them."""

    sessions_per_replica: int
    load_threshold: float
    cpu_percent: int
    idle_processes: int
    max_replicas: int
    memory_at_limit_gib: float


def recommend(
    *,
    held_sessions: int,
    cores: int,
    cpu_per_session: float,
    pss_per_session_mb: float,
    fixed_pss_mb: float,
    startup_cold: float | None,
    startup_warm: float | None,
) -> ManifestDefaults:
    """Defaults for a 2 vCPU / 4 GiB replica from one machine's measured limit."""
    per_core = held_sessions / cores
    sessions = max(1, math.floor(per_core * REPLICA_CPU * HEADROOM))
    # the worker's load is its CPU use; refuse jobs where the measured limit would be reached
    load = min(0.95, max(0.1, sessions * cpu_per_session / REPLICA_CPU))
    load = math.floor(load * 20) / 20
    # add a replica a little before workers start refusing jobs
    cpu_percent = max(10, int(load * 100) - 15)
    # a cold job process takes seconds to start; one prewarmed process per core covers callers
    # arriving together, and each idle process costs one job process's memory
    cold_gap = (startup_cold or 0.0) - (startup_warm or 0.0)
    idle = max(1, round(REPLICA_CPU)) if cold_gap > 0.5 else 1
    memory = (fixed_pss_mb + (sessions + idle) * pss_per_session_mb) / 1024
    return ManifestDefaults(
        sessions_per_replica=sessions,
        load_threshold=round(load, 2),
        cpu_percent=cpu_percent,
        idle_processes=idle,
        max_replicas=math.ceil(TARGET_SESSIONS_PER_REGION / sessions),
        memory_at_limit_gib=memory,
    )


def render(d: ManifestDefaults) -> str:
    """The recommendation as a table the lead can copy into regions.yaml."""
    rows = [
        [
            "resources",
            f"cpu: {REPLICA_CPU:g}, memory: {REPLICA_MEMORY_GIB:g}Gi",
            f"{d.sessions_per_replica} sessions + {d.idle_processes} idle processes use "
            f"~{d.memory_at_limit_gib:.1f} GiB (PSS) of {REPLICA_MEMORY_GIB:g}",
        ],
        [
            "worker.load_threshold",
            f"{d.load_threshold:.2f}",
            f"CPU share at {d.sessions_per_replica} sessions per replica "
            f"({HEADROOM:.0%} of the measured limit)",
        ],
        [
            "scale.cpu_percent",
            str(d.cpu_percent),
            "15 points under the load threshold: a replica starts before workers refuse jobs",
        ],
        [
            "worker.idle_processes",
            str(d.idle_processes),
            "a prewarmed process turns a cold job start into a warm one (start-up table)",
        ],
        [
            "replicas.max",
            str(d.max_replicas),
            f"{TARGET_SESSIONS_PER_REGION} concurrent sessions per region / "
            f"{d.sessions_per_replica} per replica",
        ],
    ]
    return table("Recommended regions.yaml defaults", ["setting", "value", "measured basis"], rows)
