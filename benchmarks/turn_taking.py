"""Section 2: how fast each turn-handling choice answers, and whether it ever cuts in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks.clips import clips_of
from benchmarks.conversation import Turn, Variant
from benchmarks.floor import ModelLatencies
from benchmarks.report import table
from benchmarks.runner import Job, run_jobs
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms

# The unfinished-question pauses last 500-700 ms; the VAD's own end of speech lags the true end
# by about 100 ms, so VAD-only delays around 0.4-0.8 s straddle the point where cut-ins stop.
VAD_ONLY_DELAYS = (0.4, 0.6, 0.7, 0.8)
EOT_DELAYS = ((0.3, 1.2), (0.3, 2.0), (0.5, 1.0), (0.7, 1.0), (0.8, 0.8))


def choices() -> list[Variant]:
    """Every turn-handling choice compared, as pipeline variants of Meridian's settings."""
    out = [
        Variant(
            f"VAD only, delay {d:.1f} s",
            turn=replace(DEFAULT_TURN_SETTINGS, min_endpointing_delay=d, max_endpointing_delay=d),
            vad_only=True,
        )
        for d in VAD_ONLY_DELAYS
    ]
    out += [
        Variant(
            f"end-of-turn model, min {lo:.1f} s / max {hi:.1f} s",
            turn=replace(DEFAULT_TURN_SETTINGS, min_endpointing_delay=lo, max_endpointing_delay=hi),
        )
        for lo, hi in EOT_DELAYS
    ]
    return out


@dataclass(frozen=True)
class ChoiceResult:
    """One choice's turns on complete questions and on questions with a pause."""

    variant: Variant
    complete: tuple[Turn, ...]
    paused: tuple[Turn, ...]

    @property
    def e2e_p50(self) -> float | None:
        """Median e2e on complete questions."""
        return percentile([t.e2e for t in self.complete], 50)

    @property
    def cut_ins(self) -> int:
        """Paused questions the agent answered or committed before the user had finished."""
        return sum(t.cut_in for t in self.paused)

    @property
    def max_delay_fallbacks(self) -> int:
        """Complete questions the end-of-turn model sent to its maximum delay."""
        return sum(t.max_delay for t in self.complete)

    @property
    def mid_pause_done(self) -> int:
        """Paused questions where the model judged the mid-question pause a finished turn."""
        count = 0
        for t in self.paused:
            first_end = t.spoken.segment_ends[0] if t.spoken.segment_ends else None
            resumed = t.spoken.speech_end
            verdicts = [p for p in t.eot if first_end is not None and first_end <= p.at < resumed]
            count += bool(verdicts) and not verdicts[0].unlikely
        return count


def measure(quick: bool, models: ModelLatencies) -> list[ChoiceResult]:
    """Every choice hears the same complete and paused questions, all choices at once."""
    complete, paused = clips_of("complete"), clips_of("paused")
    if quick:
        complete, paused = complete[:5], paused[:5]
    planned = [Job(v, complete + paused, warmup=complete[-1:], models=models) for v in choices()]
    results = run_jobs(planned)
    out = []
    for job, turns in zip(planned, results, strict=True):
        out.append(
            ChoiceResult(
                job.variant,
                tuple(t for t in turns if t.spoken.clip.kind == "complete"),
                tuple(t for t in turns if t.spoken.clip.kind == "paused"),
            )
        )
    return out


def best(results: Sequence[ChoiceResult]) -> ChoiceResult:
    """The fastest choice with zero false cut-ins, else the one with the fewest."""
    fewest = min(r.cut_ins for r in results)
    candidates = [r for r in results if r.cut_ins == fewest]
    return min(candidates, key=lambda r: r.e2e_p50 if r.e2e_p50 is not None else float("inf"))


def render(results: Sequence[ChoiceResult]) -> str:
    """The trade-off table and the choice it supports."""
    rows = []
    for r in results:
        eot = not r.variant.vad_only
        rows.append(
            [
                r.variant.name,
                ms(r.e2e_p50),
                ms(percentile([t.e2e for t in r.complete], 95)),
                f"{r.cut_ins}/{len(r.paused)}",
                f"{r.max_delay_fallbacks}/{len(r.complete)}" if eot else "-",
                f"{r.mid_pause_done}/{len(r.paused)}" if eot else "-",
            ]
        )
    chosen = best(results)
    turn = DEFAULT_TURN_SETTINGS
    default = next(
        (
            r
            for r in results
            if not r.variant.vad_only
            and r.variant.turn is not None
            and (r.variant.turn.min_endpointing_delay, r.variant.turn.max_endpointing_delay)
            == (turn.min_endpointing_delay, turn.max_endpointing_delay)
        ),
        None,
    )
    verdict = (
        f"\nMeridian's default (agent/turn_handling.py, min {turn.min_endpointing_delay:g} s / "
        f"max {turn.max_endpointing_delay:g} s): {default.cut_ins}/{len(default.paused)} false "
        f"cut-ins, target zero: {'met' if default.cut_ins == 0 else 'MISSED'}; e2e p50 "
        f"{ms(default.e2e_p50)} ms."
        if default is not None
        else ""
    )
    return "\n".join(
        [
            table(
                "Turn-taking: speed on complete questions vs false cut-ins on paused ones",
                [
                    "turn handling",
                    "e2e p50 (complete)",
                    "e2e p95 (complete)",
                    "false cut-ins (paused)",
                    "fell back to max delay (complete)",
                    "said 'done' mid-pause (paused)",
                ],
                rows,
            ),
            f"\nFastest choice with the fewest false cut-ins ({chosen.cut_ins}): "
            f"{chosen.variant.name} (e2e p50 {ms(chosen.e2e_p50)} ms).",
            verdict,
        ]
    )


def main(quick: bool) -> str:
    """Measure and render the turn-taking trade-off."""
    return render(measure(quick, ModelLatencies()))
