"""The agent's `turn` log events: reading them, their per-region statistics (latency, cache and turn
gate), and the report."""

from meridian.turnlog.events import (
    ParseResult,
    ReportError,
    TurnEvent,
    parse_inputs,
    parse_text,
    read_inputs,
)
from meridian.turnlog.render import plot_breakdown, render_json, render_text
from meridian.turnlog.stats import (
    GateOutcome,
    GateStats,
    Percentiles,
    RegionLatency,
    ServedStats,
    StageAway,
    by_region,
    gate_stats,
    percentiles_ms,
    region_latency,
    served_stats,
)

__all__ = [
    "GateOutcome",
    "GateStats",
    "ParseResult",
    "Percentiles",
    "RegionLatency",
    "ReportError",
    "ServedStats",
    "StageAway",
    "TurnEvent",
    "by_region",
    "gate_stats",
    "parse_inputs",
    "parse_text",
    "percentiles_ms",
    "plot_breakdown",
    "read_inputs",
    "region_latency",
    "render_json",
    "render_text",
    "served_stats",
]
