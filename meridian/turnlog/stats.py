"""Per-region latency statistics of agent turns: percentiles, median breakdown, cache effect, and
how the turn gate ended the turns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from meridian.contract import MODEL_STAGES, TURN_GATE_VERDICTS
from meridian.stats import median, percentiles
from meridian.turnlog.events import TurnEvent

ALL_REGIONS = "all"

# (key, label) of the reported components; key is also the JSON name.
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("eou", "endpointing (EOU)"),
    ("transcription", "transcription"),
    ("llm_ttft", "LLM TTFT"),
    ("tts_ttfb", "TTS TTFB"),
    ("e2e", "end-to-end"),
    ("heard", "heard by the caller (estimate)"),
)
_COMPONENT_FIELDS: dict[str, Callable[[TurnEvent], float | None]] = {
    "eou": lambda t: t.eou_delay,
    "transcription": lambda t: t.transcription_delay,
    "llm_ttft": lambda t: t.llm_ttft,
    "tts_ttfb": lambda t: t.tts_ttfb,
    "e2e": lambda t: t.e2e_latency,
    "heard": lambda t: t.heard_estimate,
}

# Stacked segments of the median turn, bottom to top, with the group each belongs to.
# The agent measures every stage from the moment the user stopped speaking, so the
# endpointing delay already contains the transcription delay; the segments split it.
SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("stt", "STT (transcription)", "ai"),
    ("endpointing_wait", "endpointing wait", "endpointing"),
    ("llm", "LLM TTFT", "ai"),
    ("tts", "TTS TTFB", "ai"),
    ("livekit_overhead", "LiveKit & agent overhead", "network_livekit"),
)
GROUPS: tuple[tuple[str, str], ...] = (
    ("ai", "AI processing (STT + LLM + TTS)"),
    ("endpointing", "endpointing wait (turn detection)"),
    ("network_livekit", "network, LiveKit & agent overhead"),
)

# The turn gate's outcomes: its verdicts, then the turns it did not end (a null gate_verdict).
NOT_GATED = "not_gated"
GATE_OUTCOMES: tuple[str, ...] = (*TURN_GATE_VERDICTS, NOT_GATED)


@dataclass(frozen=True)
class Percentiles:
    """Count and p50/p90/p99 of one measurement, in milliseconds (None when nothing measured)."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None


@dataclass(frozen=True)
class Breakdown:
    """Median milliseconds of each stacked segment and each group's share of their sum."""

    segments_ms: dict[str, float]
    shares: dict[str, float]
    total_ms: float


@dataclass(frozen=True)
class GateOutcome:
    """Turns with one gate outcome (or all turns with gate fields): how many, their share of the
    turns with gate fields, the wait the gate chose and e2e in ms, and how many were resumed."""

    turns: int
    share: float | None
    endpointing_delay: Percentiles
    e2e: Percentiles
    resumed_known: int
    resumed: int

    @property
    def resumed_rate(self) -> float | None:
        """Share of these turns (those that say) in which the caller resumed speaking."""
        return self.resumed / self.resumed_known if self.resumed_known else None


@dataclass(frozen=True)
class GateStats:
    """How the turn gate ended one region's turns. Turns logged before the gate (no gate fields)
    are only counted in `unlogged`; shares are of the turns with gate fields."""

    unlogged: int
    total: GateOutcome
    outcomes: dict[str, GateOutcome]


# Each stage's own latency field, to price serving it from elsewhere.
_STAGE_LATENCY: dict[str, Callable[[TurnEvent], float | None]] = {
    "stt": lambda t: t.transcription_delay,
    "llm": lambda t: t.llm_ttft,
    "tts": lambda t: t.tts_ttfb,
}


@dataclass(frozen=True)
class StageAway:
    """One stage served out of the agent's region: in how many turns, and its median latency
    (ms) then, against turns that served it in the region."""

    turns: int
    p50_in_ms: float | None
    p50_out_ms: float | None

    @property
    def extra_ms(self) -> float | None:
        """What serving the stage elsewhere added to its median latency."""
        if self.p50_in_ms is None or self.p50_out_ms is None:
            return None
        return self.p50_out_ms - self.p50_in_ms


@dataclass(frozen=True)
class ServedStats:
    """Where one region's turns were served: turns that say (`known`), how many had a stage
    served from another Azure location, per stage, and their e2e p50 against in-region turns."""

    known: int
    out_of_region: int
    stages: dict[str, StageAway]
    e2e_in: Percentiles
    e2e_out: Percentiles

    @property
    def share(self) -> float | None:
        """Share of the turns that say where they were served that left the region."""
        return self.out_of_region / self.known if self.known else None

    @property
    def extra_ms(self) -> float | None:
        """What the out-of-region turns cost end to end, median against median."""
        if self.e2e_in.p50 is None or self.e2e_out.p50 is None:
            return None
        return self.e2e_out.p50 - self.e2e_in.p50


def _p50_ms(values: list[float]) -> float | None:
    return median(values) * 1000.0 if values else None


def served_stats(turns: Sequence[TurnEvent]) -> ServedStats:
    """Out-of-region turns and their cost, over the turns that say where they were served."""
    known = [t for t in turns if t.placement_known]
    away = [t for t in known if t.out_of_region]
    home = [t for t in known if not t.out_of_region]
    stages = {}
    for index, stage in enumerate(MODEL_STAGES):
        latency = _STAGE_LATENCY[stage]
        served_here = [t for t in known if t.stage_locations[index] == t.location]
        served_away = [t for t in known if stage in t.out_of_region]
        stages[stage] = StageAway(
            turns=len(served_away),
            p50_in_ms=_p50_ms([v for t in served_here if (v := latency(t)) is not None]),
            p50_out_ms=_p50_ms([v for t in served_away if (v := latency(t)) is not None]),
        )
    return ServedStats(
        known=len(known),
        out_of_region=len(away),
        stages=stages,
        e2e_in=percentiles_ms([t.e2e_latency for t in home if t.e2e_latency is not None]),
        e2e_out=percentiles_ms([t.e2e_latency for t in away if t.e2e_latency is not None]),
    )


@dataclass(frozen=True)
class RegionLatency:
    """Everything the report says about one region (or all regions together)."""

    region: str
    turns: int
    components: dict[str, Percentiles]
    breakdown: Breakdown
    cache_known: int
    cache_hits: int
    e2e_cache_hit: Percentiles
    e2e_cache_miss: Percentiles
    gate: GateStats
    served: ServedStats

    @property
    def cache_hit_rate(self) -> float | None:
        """Share of turns with a known cache outcome that hit the cache."""
        return self.cache_hits / self.cache_known if self.cache_known else None


def percentiles_ms(seconds: Sequence[float]) -> Percentiles:
    """p50/p90/p99 (linear interpolation) of values in seconds, returned in milliseconds."""
    if not seconds:
        return Percentiles(count=0, p50=None, p90=None, p99=None)
    p50, p90, p99 = percentiles([s * 1000.0 for s in seconds], [50, 90, 99])
    return Percentiles(count=len(seconds), p50=float(p50), p90=float(p90), p99=float(p99))


def _median_ms(seconds: list[float]) -> float:
    return median(seconds) * 1000.0 if seconds else 0.0


def breakdown(turns: Sequence[TurnEvent]) -> Breakdown:
    """Median of each segment of the voice-to-voice path, and the share of each group."""
    endpointing_wait = [
        t.eou_delay - t.transcription_delay
        for t in turns
        if t.eou_delay is not None and t.transcription_delay is not None
    ]
    overhead = [
        t.e2e_latency - t.eou_delay - t.llm_ttft - t.tts_ttfb
        for t in turns
        if None not in (t.e2e_latency, t.eou_delay, t.llm_ttft, t.tts_ttfb)
    ]
    segments = {
        "stt": _median_ms(
            [t.transcription_delay for t in turns if t.transcription_delay is not None]
        ),
        # Negative values mean stages overlapped (e.g. preemptive generation): no extra time.
        "endpointing_wait": max(_median_ms(endpointing_wait), 0.0),
        "llm": _median_ms([t.llm_ttft for t in turns if t.llm_ttft is not None]),
        "tts": _median_ms([t.tts_ttfb for t in turns if t.tts_ttfb is not None]),
        "livekit_overhead": max(_median_ms(overhead), 0.0),
    }
    total = sum(segments.values())
    shares = {
        group: (
            sum(segments[key] for key, _, g in SEGMENTS if g == group) / total if total else 0.0
        )
        for group, _ in GROUPS
    }
    return Breakdown(segments_ms=segments, shares=shares, total_ms=total)


def _gate_outcome(turns: Sequence[TurnEvent], logged: int) -> GateOutcome:
    resumed = [t.resumed for t in turns if t.resumed is not None]
    return GateOutcome(
        turns=len(turns),
        share=len(turns) / logged if logged else None,
        endpointing_delay=percentiles_ms(
            [t.endpointing_delay for t in turns if t.endpointing_delay is not None]
        ),
        e2e=percentiles_ms([t.e2e_latency for t in turns if t.e2e_latency is not None]),
        resumed_known=len(resumed),
        resumed=sum(resumed),
    )


def gate_stats(turns: Sequence[TurnEvent]) -> GateStats:
    """Count, share, chosen wait, e2e and resumed turns per gate outcome, over the turns that
    carry gate fields."""
    logged = [t for t in turns if t.gate_logged]
    by_outcome: dict[str, list[TurnEvent]] = {outcome: [] for outcome in GATE_OUTCOMES}
    for turn in logged:
        by_outcome[turn.gate_verdict or NOT_GATED].append(turn)
    return GateStats(
        unlogged=len(turns) - len(logged),
        total=_gate_outcome(logged, len(logged)),
        outcomes={name: _gate_outcome(group, len(logged)) for name, group in by_outcome.items()},
    )


def region_latency(region: str, turns: Sequence[TurnEvent]) -> RegionLatency:
    """Statistics of one region's turns."""
    components = {
        key: percentiles_ms([v for t in turns if (v := _COMPONENT_FIELDS[key](t)) is not None])
        for key, _ in COMPONENTS
    }
    known = [t for t in turns if t.cache_hit is not None]
    return RegionLatency(
        region=region,
        turns=len(turns),
        components=components,
        breakdown=breakdown(turns),
        cache_known=len(known),
        cache_hits=sum(1 for t in known if t.cache_hit),
        e2e_cache_hit=percentiles_ms(
            [t.e2e_latency for t in known if t.cache_hit and t.e2e_latency is not None]
        ),
        e2e_cache_miss=percentiles_ms(
            [t.e2e_latency for t in known if not t.cache_hit and t.e2e_latency is not None]
        ),
        gate=gate_stats(turns),
        served=served_stats(turns),
    )


def by_region(turns: Sequence[TurnEvent]) -> list[RegionLatency]:
    """One entry per region, sorted by name, plus an 'all' entry when there are several."""
    regions: dict[str, list[TurnEvent]] = {}
    for turn in turns:
        regions.setdefault(turn.region, []).append(turn)
    result = [region_latency(name, regions[name]) for name in sorted(regions)]
    if len(result) > 1:
        result.append(region_latency(ALL_REGIONS, turns))
    return result
