"""Endpointing, interruption and preemption settings: the one place to tune turn-taking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from livekit.agents import inference
from livekit.agents.voice.turn import TurnHandlingOptions


@dataclass(frozen=True)
class TurnSettings:
    """How the agent decides the user has finished, and how early it starts answering.

    Latency is the product, so every value leans early except the one that decides whether the
    user has finished: cutting a caller off costs more than 300 ms (see the endpointing delays).
    """

    # The VAD only has to notice a pause; deciding whether the pause ends the turn is the
    # end-of-turn model's job. 250 ms of silence is the shortest gap that still ignores the
    # stop consonants and breaths inside a word.
    vad_min_silence: float = 0.25
    # Shorter bursts are clicks and coughs, not speech worth a turn.
    vad_min_speech: float = 0.05
    vad_activation_threshold: float = 0.5
    # Measured (make bench, turn_taking; docs/benchmarks.md): on 12 questions with a 500-700 ms
    # mid-question pause, the local end-of-turn model called 4-5 of the pauses "done" and was
    # unsure at 6-7 of 16 finished questions, so no min/max pair was both fast and safe: min
    # 0.3 s answered finished questions in ~535 ms (p50) but cut in on 5/12 paused ones, min
    # 0.7 s still cut in on 1/12. Only a 0.8 s wait had zero cut-ins (e2e p50 ~850 ms, p95
    # ~880 ms), and never cutting in wins over the last 300 ms. min == max makes that wait
    # unconditional, so today the model changes no decision; it stays in the pipeline so that
    # lowering min_endpointing_delay is the whole change once re-measuring on real callers'
    # speech (not synthetic clips) shows it separating the two.
    min_endpointing_delay: float = 0.8
    max_endpointing_delay: float = 0.8
    # "fixed" rather than "dynamic": dynamic delays drift with each caller's pause history,
    # which would make turn latency differ between regions for reasons that are not the region.
    endpointing_mode: Literal["fixed", "dynamic"] = "fixed"
    # Start the LLM on the final transcript while the end-of-turn decision is still pending, so
    # its time-to-first-token hides inside the endpointing delay.
    preemptive_generation: bool = True
    # Also start TTS early: the first audio is ready the moment the turn is confirmed. A
    # discarded guess costs a few TTS characters, bounded by preemptive_max_retries per turn.
    preemptive_tts: bool = True
    preemptive_max_retries: int = 3
    # Plain VAD barge-in: the adaptive detector is a LiveKit Cloud model, and every model call
    # must stay in the region. Half a second of speech avoids stopping for "mm-hm".
    interruption_min_duration: float = 0.5

    def build_vad(self) -> inference.VAD:
        """The local VAD (livekit-local-inference) configured for these settings."""
        return inference.VAD(
            min_speech_duration=self.vad_min_speech,
            min_silence_duration=self.vad_min_silence,
            activation_threshold=self.vad_activation_threshold,
        )

    def build_turn_detector(self) -> inference.TurnDetector:
        """The local end-of-turn model; "v1-mini" runs in-process and never calls the cloud."""
        return inference.TurnDetector(version="v1-mini")

    def options(self, turn_detector: object) -> TurnHandlingOptions:
        """These settings in the shape AgentSession takes."""
        return TurnHandlingOptions(
            turn_detection=turn_detector,  # type: ignore[typeddict-item]
            endpointing={
                "mode": self.endpointing_mode,
                "min_delay": self.min_endpointing_delay,
                "max_delay": self.max_endpointing_delay,
            },
            interruption={"mode": "vad", "min_duration": self.interruption_min_duration},
            preemptive_generation={
                "enabled": self.preemptive_generation,
                "preemptive_tts": self.preemptive_tts,
                "max_retries": self.preemptive_max_retries,
            },
        )


DEFAULT_TURN_SETTINGS = TurnSettings()
