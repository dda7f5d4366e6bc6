"""Sections 1 and 3: turn latency from the true end of speech, against the critical-path floor."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from agent.faq import Faq
from agent.settings import DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD
from benchmarks.clips import Clip, clips_of
from benchmarks.conversation import Turn, Variant
from benchmarks.floor import ModelLatencies
from benchmarks.report import table
from benchmarks.runner import Job, run_jobs
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms

DEFAULTS = Variant("livekit-agents defaults", turn=None)
MERIDIAN = Variant("Meridian")
NO_STREAMING = Variant("Meridian, no streaming", streaming=False)
CACHE_HIT = Variant("Meridian, cache hit", cache=True)
VARIANTS = (DEFAULTS, MERIDIAN, NO_STREAMING, CACHE_HIT)


@dataclass(frozen=True)
class VariantResult:
    """The scored turns of one variant."""

    variant: Variant
    turns: tuple[Turn, ...]

    def p(self, attribute: str, q: float) -> float | None:
        """Percentile q of a Turn attribute over the turns that have it."""
        return percentile([getattr(t, attribute) for t in self.turns], q)

    def floor(self, q: float) -> float | None:
        """Percentile q of the per-turn floor."""
        return percentile([t.floor.first_audio if t.floor else None for t in self.turns], q)

    def under_report(self, q: float) -> float | None:
        """Percentile q of how much the framework's e2e_latency falls short of the true e2e."""
        gaps = [
            t.e2e - t.framework_e2e
            for t in self.turns
            if t.e2e is not None and t.framework_e2e is not None
        ]
        return percentile(gaps, q)

    @property
    def max_delay_turns(self) -> int:
        """Turns whose end-of-turn verdict sent them to the maximum endpointing delay."""
        return sum(1 for t in self.turns if t.max_delay)


def _cycle(clips: Sequence[Clip], n: int) -> tuple[Clip, ...]:
    return tuple(itertools.islice(itertools.cycle(clips), n))


def split_faq(clips: Sequence[Clip]) -> tuple[tuple[Clip, ...], tuple[Clip, ...]]:
    """(questions the FAQ answers, the rest), using the agent's own matcher."""
    faq = Faq.load(DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD)
    hits = tuple(c for c in clips if faq.match(c.text) is not None)
    return hits, tuple(c for c in clips if c not in hits)


def jobs(turns: int, models: ModelLatencies) -> list[Job]:
    """One job per configuration, each after one unscored turn (first-call costs are start-up,
    measured in the capacity section); the cache-hit job first voices each FAQ answer once."""
    faq_clips, other = split_faq(clips_of("complete"))
    out = []
    for variant in VARIANTS:
        if variant.cache:
            out.append(Job(variant, _cycle(faq_clips, turns), warmup=faq_clips, models=models))
        else:
            out.append(Job(variant, _cycle(other, turns), warmup=other[-1:], models=models))
    return out


def measure(turns: int, models: ModelLatencies) -> list[VariantResult]:
    """Run every configuration concurrently, each in its own process."""
    planned = jobs(turns, models)
    results = run_jobs(planned)
    return [VariantResult(job.variant, tuple(r)) for job, r in zip(planned, results, strict=True)]


def render(results: Sequence[VariantResult], models: ModelLatencies) -> str:
    """The turn-latency table and the section-3 target checks."""
    rows = []
    for r in results:
        rows.append(
            [
                r.variant.name,
                len([t for t in r.turns if t.e2e is not None]),
                ms(r.p("e2e", 50)),
                ms(r.p("e2e", 95)),
                ms(r.floor(50)),
                ms(r.floor(95)),
                ms(r.p("overhead", 50)),
                ms(r.p("overhead", 95)),
                ms(r.p("framework_e2e", 50)),
                ms(r.under_report(50)),
                ms(r.p("commit_lag", 50)),
                f"{r.max_delay_turns}/{len(r.turns)}",
            ]
        )
    out = [
        table(
            "Turn latency (ms; e2e = true end of speech to first agent audio)",
            [
                "configuration",
                "turns",
                "e2e p50",
                "e2e p95",
                "floor p50",
                "floor p95",
                "overhead p50",
                "overhead p95",
                "framework e2e_latency p50",
                "under-report p50 (= VAD lag)",
                "commit lag p50",
                "waited longest",
            ],
            rows,
        ),
        f"\nModel stand-ins: STT final {ms(models.stt_final)} ms after end of speech; LLM first "
        f"token {ms(models.llm_ttft)} ms then {models.llm_tokens_per_second:.0f} tokens/s "
        f"(36-token reply); TTS first byte {ms(models.tts_first_byte)} ms after its first text.\n"
        "waited longest: the turn detector (Meridian: the turn gate; defaults: the local "
        "end-of-turn model) judged the final pause unfinished, so the turn waited its longest "
        "delay.",
    ]
    out.append(render_targets(results))
    return "\n".join(out)


def _by_name(results: Sequence[VariantResult], variant: Variant) -> VariantResult | None:
    return next((r for r in results if r.variant == variant), None)


def render_targets(results: Sequence[VariantResult]) -> str:
    """Section 3's latency targets, each as measured, met or missed."""
    meridian = _by_name(results, MERIDIAN)
    buffered = _by_name(results, NO_STREAMING)
    cached = _by_name(results, CACHE_HIT)
    rows: list[list[str]] = []

    def check(target: str, value: float | None, limit: float | None, shown: str) -> None:
        met = value is not None and limit is not None and value <= limit
        rows.append([target, shown, "met" if met else "MISSED"])

    if meridian is not None:
        e2e = meridian.p("e2e", 50)
        check("Meridian e2e p50 <= 560 ms", e2e, 0.560, ms(e2e))
        overhead = meridian.p("overhead", 50)
        check("Meridian overhead p50 <= 20 ms", overhead, 0.020, ms(overhead))
        if buffered is not None:
            slow = buffered.p("e2e", 50)
            ratio = e2e / slow if e2e is not None and slow else None
            check(
                "Meridian e2e <= 0.45 x no-streaming e2e (p50)",
                ratio,
                0.45,
                "-" if ratio is None else f"{ratio:.2f} x",
            )
    if cached is not None:
        overhead = cached.p("overhead", 50)
        check("cache hit e2e <= its floor + 20 ms (p50)", overhead, 0.020, ms(overhead))
    return table("Latency targets", ["target", "measured", "result"], rows)


def main(quick: bool) -> str:
    """Measure and render; at least 30 turns per configuration (8 with --quick)."""
    models = ModelLatencies()
    return render(measure(8 if quick else 30, models), models)
