"""Section: the local VAD on real human voices (benchmarks/data/real).

The synthetic clips are clean TTS voices; these are real people on real lines. Each recording is
fed, 20 ms at a time, to the VAD exactly as the agent builds it (DEFAULT_TURN_SETTINGS), and the
speech segments it reports are compared with the source's labels where there are any. Every
silence between two segments is a pause at which the turn gate has to decide.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from livekit.agents import vad as lk_vad

from agent.server import load_local_models
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks.clips import SAMPLE_RATE, Recording, real_recordings
from benchmarks.report import table
from benchmarks.vad_feed import vad_events
from meridian.tables import fmt_pct
from meridian.tables import fmt_seconds_as_ms as ms

RESOLUTION = 0.01  # seconds per bin when comparing speech time with the labels
MIN_SPEECH = DEFAULT_TURN_SETTINGS.vad_min_speech


@dataclass(frozen=True)
class VoiceResult:
    """What the VAD made of one recording."""

    name: str
    seconds: float
    segments: tuple[tuple[float, float], ...]
    labels: tuple[tuple[float, float], ...] | None

    @property
    def speech_share(self) -> float:
        """Share of the recording the VAD calls speech."""
        return sum(e - s for s, e in self.segments) / self.seconds if self.seconds else 0.0

    @property
    def pauses(self) -> list[float]:
        """Silences between consecutive VAD segments: where the turn gate decides."""
        return [b[0] - a[1] for a, b in zip(self.segments, self.segments[1:], strict=False)]

    @property
    def short_segments(self) -> int:
        """Segments shorter than the VAD's min speech (the VAD should never report one)."""
        return sum(e - s < MIN_SPEECH - 1e-6 for s, e in self.segments)

    def _overlap(self) -> tuple[int, int, int] | None:
        if self.labels is None:
            return None
        bins = round(self.seconds / RESOLUTION)
        said = _mask(self.segments, bins)
        truth = _mask(self.labels, bins)
        return int((said & truth).sum()), int(truth.sum()), int(said.sum())

    @property
    def recall(self) -> float | None:
        """Share of labelled speech time the VAD calls speech (None without labels)."""
        o = self._overlap()
        return None if o is None or not o[1] else o[0] / o[1]

    @property
    def precision(self) -> float | None:
        """Share of the VAD's speech time that the labels call speech (None without labels)."""
        o = self._overlap()
        return None if o is None or not o[2] else o[0] / o[2]


def _mask(intervals: Sequence[tuple[float, float]], bins: int) -> np.ndarray:
    mask = np.zeros(bins, dtype=bool)
    for start, end in intervals:
        mask[max(0, round(start / RESOLUTION)) : min(bins, round(end / RESOLUTION))] = True
    return mask


async def vad_segments(samples: np.ndarray) -> tuple[tuple[float, float], ...]:
    """The (start, end) seconds of speech the agent's VAD reports for int16 16 kHz samples."""
    segments: list[tuple[float, float]] = []
    start: float | None = None
    for event in await vad_events(samples):
        if event.type == lk_vad.VADEventType.START_OF_SPEECH:
            # the event fires once min speech has accumulated; speech began that long before
            start = max(0.0, event.timestamp - event.speech_duration)
        elif event.type == lk_vad.VADEventType.END_OF_SPEECH and start is not None:
            # ... and ends once min silence has accumulated after the last speech window
            segments.append((start, event.timestamp - event.silence_duration))
            start = None
    if start is not None:  # still speaking when the audio ran out
        segments.append((start, len(samples) / SAMPLE_RATE))
    return tuple(segments)


async def _measure(recordings: Sequence[Recording]) -> list[VoiceResult]:
    out = []
    for r in recordings:
        segments = await vad_segments(r.samples)
        out.append(VoiceResult(r.name, r.seconds, segments, r.speech))
    return out


def measure(recordings: Sequence[Recording] | None = None) -> list[VoiceResult]:
    """Run the agent's VAD over each recording (all the real recordings by default)."""
    load_local_models()
    return asyncio.run(_measure(real_recordings() if recordings is None else recordings))


def render(results: Sequence[VoiceResult]) -> str:
    """The per-recording table and the segment check."""
    rows = []
    for r in results:
        pauses = r.pauses
        rows.append(
            [
                r.name,
                f"{r.seconds:.1f}",
                len(r.segments),
                fmt_pct(r.speech_share),
                fmt_pct(r.recall),
                fmt_pct(r.precision),
                len(pauses),
                ms(statistics.median(pauses)) if pauses else "-",
            ]
        )
    short = sum(r.short_segments for r in results)
    all_pauses = [p for r in results for p in r.pauses]
    summary = [
        ["recordings", len(results)],
        ["seconds of audio", f"{sum(r.seconds for r in results):.1f}"],
        ["VAD segments", sum(len(r.segments) for r in results)],
        ["pauses (turn-gate decisions)", len(all_pauses)],
        ["median pause (ms)", ms(statistics.median(all_pauses)) if all_pauses else "-"],
        [f"segments shorter than min speech ({ms(MIN_SPEECH)} ms; want 0)", short],
    ]
    s = DEFAULT_TURN_SETTINGS
    return (
        table(
            "Local VAD on real voices "
            f"(min speech {ms(s.vad_min_speech)} ms, min silence {ms(s.vad_min_silence)} ms, "
            f"threshold {s.vad_activation_threshold:g})",
            [
                "recording",
                "seconds",
                "segments",
                "speech share",
                "recall",
                "precision",
                "pauses",
                "median pause (ms)",
            ],
            rows,
        )
        + "\n"
        + table("Real voices: totals", ["measure", "value"], summary)
    )


def main(quick: bool) -> str:
    """Measure every real recording (quick changes nothing: it takes seconds) and render."""
    del quick
    return render(measure())
