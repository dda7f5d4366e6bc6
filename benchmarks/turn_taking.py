"""Section 2: turn-taking. Answer finished questions fast, never cut into unfinished ones, and
recover politely when a caller goes on after a finished sentence.

Three pipelines hear the "report" half of the clips end to end (the gate's threshold was fitted
on the "fit" half, benchmarks/gate_fit.py), with replies played at real time so talking over a
caller costs real time. Each approach's trade-off curve (wait vs cut-ins) is then replayed from
what the runs measured: every pause's length, the VAD's lag and each model's score at the pause.
Per-clip verdicts and scores go to benchmarks/results/turn_taking.json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from agent.completeness import TextCompleteness, words_of
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks import smart_turn
from benchmarks.clips import SAMPLE_RATE, Clip, clips_of, noise_floor
from benchmarks.conversation import Turn, Variant
from benchmarks.floor import ModelLatencies, answered_at
from benchmarks.report import table
from benchmarks.runner import Job, run_jobs
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms

RESULTS = Path(__file__).with_name("results") / "turn_taking.json"
# replies long enough (about 3.6 s) that a caller who goes on is talked over unless it stops
_SPEECH_SECONDS_PER_CHAR = 0.02
GATE = DEFAULT_TURN_SETTINGS.gate
BEFORE = Variant(
    "fixed 0.8 s wait (before the gate)",
    turn=replace(
        DEFAULT_TURN_SETTINGS,
        gate=replace(GATE, finished_delay=0.8, unfinished_delay=0.8),
        aec_warmup=3.0,
        resume_window=0.0,
        interruption_min_words=0,
    ),
    detector="vad",
    realtime_speaker=True,
    tts_seconds_per_char=_SPEECH_SECONDS_PER_CHAR,
)
AUDIO = Variant(
    f"audio model v1-mini, {GATE.finished_delay:g} s / {GATE.unfinished_delay:g} s",
    detector="audio",
    realtime_speaker=True,
    tts_seconds_per_char=_SPEECH_SECONDS_PER_CHAR,
)
SHIPPED = Variant(
    "turn gate + resume (shipped)",
    realtime_speaker=True,
    tts_seconds_per_char=_SPEECH_SECONDS_PER_CHAR,
)
VARIANTS = (BEFORE, AUDIO, SHIPPED)
FIXED_WAITS = (0.35, 0.5, 0.6, 0.8, 1.0, 1.2, 1.6)
# score thresholds swept for each model, the gate's own among them
THRESHOLDS = tuple(sorted({0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.95, GATE.finished_at}))


def _same_words(a: str, b: str) -> bool:
    return words_of(a) == words_of(b)


@dataclass(frozen=True)
class PausedOutcome:
    """What happened at one paused question, measured against the caller's resume time."""

    turn: Turn

    @property
    def resume(self) -> float:
        """When the caller's second part started (wall clock)."""
        return self.turn.spoken.segment_starts[1]

    @property
    def cut_in(self) -> bool:
        """The agent committed the turn or started a reply before the caller had finished."""
        return self.turn.cut_in

    @property
    def overlap(self) -> float:
        """Seconds of agent audio the caller heard while speaking their second part."""
        end = self.turn.spoken.speech_end
        total = 0.0
        for p in self.turn.playouts:
            if p.started_at is None or p.stopped_at is None:
                continue
            total += max(0.0, min(p.stopped_at, end) - max(p.started_at, self.resume))
        return total

    @property
    def stop_after(self) -> float | None:
        """Seconds from the caller resuming to the agent falling silent, for a reply that was
        playing when the caller resumed (None when nothing was playing)."""
        playing = [
            p
            for p in self.turn.playouts
            if p.started_at is not None
            and p.stopped_at is not None
            and p.started_at <= self.resume < p.stopped_at
        ]
        return max(p.stopped_at - self.resume for p in playing) if playing else None  # type: ignore[operator]

    @property
    def dropped(self) -> bool:
        """A reply that started before the caller finished was cut short."""
        end = self.turn.spoken.speech_end
        return any(p.interrupted for p in self.turn.playouts if (p.started_at or end) < end)

    @property
    def answered_whole(self) -> bool:
        """The last reply was generated from the whole question as one user message."""
        calls = self.turn.llm_calls
        return bool(calls) and _same_words(calls[-1].user_text or "", self.turn.spoken.clip.text)

    @property
    def words_lost(self) -> bool:
        """Some of the caller's words never reached the context of the last reply."""
        calls = self.turn.llm_calls
        heard = " ".join(calls[-1].user_texts) if calls else ""
        return not set(words_of(self.turn.spoken.clip.text)) <= set(words_of(heard))


@dataclass(frozen=True)
class RunResult:
    """One pipeline's turns on the report clips."""

    variant: Variant
    complete: tuple[Turn, ...]
    unfinished: tuple[PausedOutcome, ...]
    sentence: tuple[PausedOutcome, ...]
    # questions with a backchannel ("mm-hm") over their reply
    backchannel: tuple[Turn, ...] = ()

    def e2e(self, q: float) -> float | None:
        """Percentile q of e2e on finished questions."""
        return percentile([t.e2e for t in self.complete], q)

    @property
    def overlaps(self) -> int:
        """Paused questions in this conversation where the agent talked over the caller."""
        return sum(o.overlap > 0 for o in (*self.unfinished, *self.sentence))


def measure(quick: bool, models: ModelLatencies) -> list[RunResult]:
    """Every pipeline hears the same report clips, all at once, one process each."""
    complete = clips_of("complete", split="report")
    paused = clips_of("paused", split="report")
    if quick:
        complete, paused = complete[:6], paused[:8]
    clips = tuple(c for pair in zip(complete, paused, strict=False) for c in pair)
    clips += complete[len(paused) :] + paused[len(complete) :]
    # every backchannel clip (nothing is fitted on them), each over the reply to a question
    over_reply = tuple(zip(complete, clips_of("backchannel"), strict=False))
    jobs = [
        Job(v, clips, warmup=complete[-1:], models=models, over_reply=over_reply) for v in VARIANTS
    ]
    out = []
    for job, all_turns in zip(jobs, run_jobs(jobs), strict=True):
        turns = [t for t in all_turns if t.interjection is None]
        by_prefix = {
            prefix: tuple(PausedOutcome(t) for t in turns if t.spoken.clip.prefix == prefix)
            for prefix in ("unfinished", "sentence")
        }
        out.append(
            RunResult(
                job.variant,
                tuple(t for t in turns if t.spoken.clip.kind == "complete"),
                by_prefix["unfinished"],
                by_prefix["sentence"],
                tuple(t for t in all_turns if t.interjection is not None),
            )
        )
    return out


def reply_kept(turn: Turn) -> bool:
    """The reply the backchannel landed in played to its end."""
    replies = [p for p in turn.playouts if (p.started_at or 0) >= turn.spoken.speech_end]
    return bool(replies) and not replies[0].interrupted


def replied_to_backchannel(turn: Turn) -> bool:
    """The agent generated a reply to the backchannel itself."""
    return len(turn.llm_calls) > 1


# --- replayed trade-off curves ------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """One pause as the replay needs it: what it is, how long, and each model's score at it."""

    label: str  # "finished" (question end), "unfinished" or "sentence" (prefix)
    pause: float | None  # seconds until the caller resumed; None at a question's end
    text_score: float
    audio_score: float | None
    # Pipecat Smart Turn v3.2 on the audio so far plus 200 ms of the pause (None when the bench
    # dependency group is not installed)
    smart_turn: float | None = None


# Pipecat runs Smart Turn once the VAD has heard this much silence
_SMART_TURN_SILENCE = 0.2


@cache
def _smart_turn_score(clip: Clip, upto: int) -> float | None:
    """Smart Turn's probability for a clip heard up to sample `upto` and then the VAD's silence;
    it depends on the audio alone, so each pause is scored once for every run that replays it."""
    if not smart_turn.available():
        return None
    tail = noise_floor(int(_SMART_TURN_SILENCE * SAMPLE_RATE), seed=0)
    return smart_turn.load().probability(np.concatenate([clip.samples()[:upto], tail]))


def pauses(result: RunResult, text: TextCompleteness) -> list[Pause]:
    """Every pause of a run, scored by the text model and the audio model's recorded verdict."""

    def audio_at(turn: Turn, after: float, before: float) -> float | None:
        verdicts = [p.probability for p in turn.eot if after <= p.at < before]
        return verdicts[0] if verdicts else None

    out = []
    for t in result.complete:
        clip = t.spoken.clip
        out.append(
            Pause(
                "finished",
                None,
                text.score_text(clip.text),
                audio_at(t, t.spoken.speech_end, float("inf")),
                _smart_turn_score(clip, clip.speech_end),
            )
        )
    for o in (*result.unfinished, *result.sentence):
        clip = o.turn.spoken.clip
        first_end = o.turn.spoken.segment_ends[0]
        out.append(
            Pause(
                clip.prefix or "",
                (clip.pause_ms or 0) / 1000,
                text.score_text(clip.segments[0].text),
                audio_at(o.turn, first_end, o.resume),
                _smart_turn_score(clip, clip.segments[0].end),
            )
        )
    return out


@dataclass(frozen=True)
class CurvePoint:
    """One setting of one approach, replayed."""

    setting: str
    e2e_p50: float | None
    e2e_p95: float | None
    unfinished_cut_ins: int
    unfinished: int
    sentence_early: int
    sentence: int


def replay(
    points: Sequence[Pause],
    setting: str,
    wait: Callable[[Pause], float],
    e2e_of: Callable[[float], float],
    vad_lag: float,
) -> CurvePoint:
    """A cut-in is a pause longer than the VAD's lag plus the wait chosen for it."""
    finished = [e2e_of(wait(p)) for p in points if p.label == "finished"]
    cut = [p for p in points if p.pause is not None and p.pause > vad_lag + wait(p)]
    return CurvePoint(
        setting,
        percentile(finished, 50),
        percentile(finished, 95),
        sum(p.label == "unfinished" for p in cut),
        sum(p.label == "unfinished" for p in points),
        sum(p.label == "sentence" for p in cut),
        sum(p.label == "sentence" for p in points),
    )


def curves(results: Sequence[RunResult], models: ModelLatencies) -> dict[str, list[CurvePoint]]:
    """The trade-off curve of each approach, replayed on the runs' measured pauses and scores."""
    text = TextCompleteness()
    shipped = next(r for r in results if r.variant is SHIPPED)
    audio_run = next(r for r in results if r.variant is AUDIO)
    lags = [t.path.vad_lag for t in shipped.complete if t.path is not None and t.path.vad_lag]
    lag = percentile(lags, 50) or 0.0

    def e2e_of(wait: float) -> float:
        return answered_at(wait, lag, DEFAULT_TURN_SETTINGS.vad_min_silence, models)

    measured = pauses(shipped, text)
    heard = pauses(audio_run, text)
    lo, hi = GATE.finished_delay, GATE.unfinished_delay
    smart: dict[str, list[CurvePoint]] = {}
    if all(p.smart_turn is not None for p in measured):
        smart[f"Pipecat Smart Turn v3.2 ({lo:g} s if p >= t, else {hi:g} s)"] = [
            replay(
                measured,
                f"t = {t:g}",
                lambda p, t=t: lo if (p.smart_turn or 0.0) >= t else hi,
                e2e_of,
                lag,
            )
            for t in THRESHOLDS
        ]
    approaches = {
        "fixed wait (VAD only)": [
            replay(measured, f"{w:g} s", lambda p, w=w: w, e2e_of, lag) for w in FIXED_WAITS
        ],
        f"audio model v1-mini ({lo:g} s if p >= t, else {hi:g} s)": [
            replay(
                heard,
                f"t = {t:g}",
                lambda p, t=t: lo if p.audio_score is not None and p.audio_score >= t else hi,
                e2e_of,
                lag,
            )
            for t in THRESHOLDS
        ],
    }
    approaches |= smart
    gate_points = {
        f"turn gate, text ({lo:g} s if score >= t, else {hi:g} s)": [
            replay(
                measured, f"t = {t:g}", lambda p, t=t: lo if p.text_score >= t else hi, e2e_of, lag
            )
            for t in THRESHOLDS
        ],
    }
    return approaches | gate_points


# --- output -----------------------------------------------------------------------------------


def write_results(results: Sequence[RunResult], path: Path = RESULTS) -> None:
    """Every clip's verdicts, scores and outcome, per pipeline, as JSON."""
    out = {}
    for r in results:
        rows = []
        for t in r.complete:
            rows.append(_row(t, None))
        for o in (*r.unfinished, *r.sentence):
            rows.append(_row(o.turn, o))
        for t in r.backchannel:
            row = _row(t, None)
            row |= {
                "interjection": t.interjection.clip.name if t.interjection else None,
                "reply_kept": reply_kept(t),
                "replied_to_backchannel": replied_to_backchannel(t),
            }
            rows.append(row)
        out[r.variant.name] = rows
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")


def _row(t: Turn, o: PausedOutcome | None) -> dict[str, object]:
    clip: Clip = t.spoken.clip
    row: dict[str, object] = {
        "clip": clip.name,
        "kind": clip.kind,
        "prefix": clip.prefix,
        "pause_ms": clip.pause_ms,
        "voice": clip.voice,
        "e2e_ms": None if t.e2e is None else round(t.e2e * 1000),
        "cut_in": t.cut_in,
        "gate": [
            {
                "verdict": d.verdict,
                "score": d.score,
                "delay": d.delay,
                "at": round(at - t.spoken.started, 3),
            }
            for at, d in t.gate
        ],
        "audio_eot": [
            {"probability": round(p.probability, 4), "at": round(p.at - t.spoken.started, 3)}
            for p in t.eot
        ],
        "resumed": t.resumed,
    }
    if o is not None:
        row |= {
            "overlap_ms": round(o.overlap * 1000),
            "stop_after_ms": None if o.stop_after is None else round(o.stop_after * 1000),
            "dropped_reply": o.dropped,
            "answered_whole": o.answered_whole,
            "words_lost": o.words_lost,
        }
    return row


def _n(items: Sequence[object], pred: Callable[[object], bool]) -> str:
    return f"{sum(pred(i) for i in items)}/{len(items)}"


def render(results: Sequence[RunResult], models: ModelLatencies) -> str:
    """The three goals per pipeline, the recovery table and the replayed curves."""
    goal_rows = []
    for r in results:
        goal_rows.append(
            [
                r.variant.name,
                ms(r.e2e(50)),
                ms(r.e2e(95)),
                _n(r.unfinished, lambda o: o.cut_in),  # type: ignore[attr-defined]
                _n(r.sentence, lambda o: o.cut_in),  # type: ignore[attr-defined]
                str(r.overlaps),
            ]
        )
    recovery_rows = []
    for r in results:
        early = [o for o in r.sentence if o.cut_in]
        stops = [o.stop_after for o in early if o.stop_after is not None]
        overlaps = [o.overlap for o in early]
        recovery_rows.append(
            [
                r.variant.name,
                f"{len(early)}/{len(r.sentence)}",
                ms(percentile(overlaps, 50)),
                ms(max(overlaps, default=None)),
                ms(percentile(stops, 50)),
                ms(max(stops, default=None)),
                _n(early, lambda o: o.dropped),  # type: ignore[attr-defined]
                _n(early, lambda o: o.answered_whole),  # type: ignore[attr-defined]
                _n(early, lambda o: o.words_lost),  # type: ignore[attr-defined]
            ]
        )
    backchannel_rows = [
        [
            r.variant.name,
            _n(r.backchannel, reply_kept),  # type: ignore[arg-type]
            _n(r.backchannel, replied_to_backchannel),  # type: ignore[arg-type]
        ]
        for r in results
    ]
    shipped = next((r for r in results if r.variant is SHIPPED), None)
    verdict = []
    if shipped is not None:
        p50, p95 = shipped.e2e(50), shipped.e2e(95)
        early = [o for o in shipped.sentence if o.cut_in]
        playing = [o for o in early if o.stop_after is not None]
        stops = [o.stop_after for o in playing if o.stop_after is not None]
        checks = [
            ("finished questions: e2e p50 <= 560 ms", p50 is not None and p50 <= 0.560, ms(p50)),
            ("finished questions: e2e p95 <= 900 ms", p95 is not None and p95 <= 0.900, ms(p95)),
            (
                "unfinished prefixes: 0 false cut-ins",
                not any(o.cut_in for o in shipped.unfinished),
                _n(shipped.unfinished, lambda o: o.cut_in),  # type: ignore[attr-defined]
            ),
            (
                "sentence prefixes: stops within 200 ms of the caller resuming",
                all(s <= 0.200 for s in stops),
                f"max {ms(max(stops, default=None))}",
            ),
            (
                "sentence prefixes: a reply playing when the caller resumes is dropped",
                all(o.dropped for o in playing),
                _n(playing, lambda o: o.dropped),  # type: ignore[attr-defined]
            ),
            (
                "sentence prefixes: answered from the whole question, no word lost",
                all(o.answered_whole and not o.words_lost for o in shipped.sentence),
                _n(shipped.sentence, lambda o: o.answered_whole and not o.words_lost),  # type: ignore[attr-defined]
            ),
            (
                "a backchannel over a reply: the reply goes on, no reply to it",
                all(reply_kept(t) and not replied_to_backchannel(t) for t in shipped.backchannel),
                _n(
                    shipped.backchannel,
                    lambda t: reply_kept(t) and not replied_to_backchannel(t),  # type: ignore[arg-type]
                ),
            ),
        ]
        verdict = [[name, shown, "met" if ok else "MISSED"] for name, ok, shown in checks]
    curve_tables = [
        table(
            f"Trade-off, replayed: {name}",
            [
                "setting",
                "e2e p50 (finished)",
                "e2e p95 (finished)",
                "false cut-ins (unfinished)",
                "answered early (sentence)",
            ],
            [
                [
                    p.setting,
                    ms(p.e2e_p50),
                    ms(p.e2e_p95),
                    f"{p.unfinished_cut_ins}/{p.unfinished}",
                    f"{p.sentence_early}/{p.sentence}",
                ]
                for p in points
            ],
        )
        for name, points in curves(results, models).items()
    ]
    return "\n".join(
        [
            table(
                "Turn-taking on the report clips (end to end, replies played at real time)",
                [
                    "pipeline",
                    "e2e p50 (finished)",
                    "e2e p95 (finished)",
                    "false cut-ins (unfinished)",
                    "answered early (sentence)",
                    "overlaps in the conversation",
                ],
                goal_rows,
            ),
            "",
            table(
                "Recovery when the caller goes on after a finished sentence",
                [
                    "pipeline",
                    "answered early",
                    "overlap p50",
                    "overlap max",
                    "stopped after p50",
                    "stopped after max",
                    "reply dropped",
                    "answered whole",
                    "words lost",
                ],
                recovery_rows,
            ),
            "",
            table(
                f"A backchannel {Job.interject_after:g} s into a reply (outside the resume window)",
                ["pipeline", "reply played on", "replied to the backchannel"],
                backchannel_rows,
            ),
            "",
            table("Turn-taking goals (shipped pipeline)", ["goal", "measured", "result"], verdict),
            *("\n" + t for t in curve_tables),
            f"\nPer-clip verdicts and scores: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}",
        ]
    )


def main(quick: bool) -> str:
    """Measure, write the per-clip results, and render."""
    models = ModelLatencies()
    results = measure(quick, models)
    write_results(results)
    return render(results, models)
