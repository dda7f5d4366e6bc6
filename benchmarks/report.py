"""Machine description and section tables for the benchmark output (rendered by meridian.tables)."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

from meridian.tables import render_table


@dataclass(frozen=True)
class Machine:
    """Where the numbers were measured."""

    cores: int
    cpu_model: str
    memory_gib: float
    python: str
    livekit_agents: str
    date: str

    def describe(self) -> str:
        """One line for the top of the output and docs/benchmarks.md."""
        return (
            f"{self.cores} cores, {self.cpu_model}, {self.memory_gib:.0f} GiB RAM, "
            f"Python {self.python}, livekit-agents {self.livekit_agents}, {self.date}"
        )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


def machine() -> Machine:
    """The current machine, with today's date (UTC)."""
    return Machine(
        cores=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        memory_gib=_memory_gib(),
        python=platform.python_version(),
        livekit_agents=metadata.version("livekit-agents"),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
    )


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A titled, padded Markdown table (readable in a terminal, pasteable into the docs)."""
    return f"\n### {title}\n\n" + render_table(header, rows, markdown=True, padded=True)
