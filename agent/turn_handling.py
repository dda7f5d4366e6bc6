"""Endpointing, interruption and preemption settings: the one place to tune turn-taking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from livekit.agents import inference, room_io
from livekit.agents.voice.turn import TurnHandlingOptions

from agent.turn_gate import GateSettings, GateTurnDetector, TurnGate


@dataclass(frozen=True)
class TurnSettings:
    """How the agent decides the user has finished, and how early it starts answering.

    Latency is the product, so every value leans early, and the wait after each pause is the
    turn gate's: short only when the words so far read as a finished sentence, because cutting
    into an unfinished one costs the caller far more than the 300 ms it saves.
    """

    # The VAD only has to notice a pause; deciding whether the pause ends the turn is the
    # end-of-turn model's job. 250 ms of silence is the shortest gap that still ignores the
    # stop consonants and breaths inside a word.
    vad_min_silence: float = 0.25
    # Shorter bursts are clicks and coughs, not speech worth a turn.
    vad_min_speech: float = 0.05
    vad_activation_threshold: float = 0.5
    # How long to wait after each pause is the turn gate's call (agent/turn_gate.py): short
    # when the transcript reads as a finished question, long when it cannot end a sentence.
    # The thresholds and waits are fitted and measured in docs/benchmarks.md.
    gate: GateSettings = field(default_factory=GateSettings)
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
    # must stay in the region. Half a second of speech avoids stopping for a cough.
    interruption_min_duration: float = 0.5
    # A one-word transcript over a reply ("mm-hm", "yeah", "okay") is a backchannel: it neither
    # stops the reply nor becomes a turn. Without this, its STT final alone interrupts the
    # agent however short it was (measured: docs/benchmarks.md).
    interruption_min_words: int = 2
    # Speech this soon after a turn was committed, while its reply is pending or playing, is the
    # caller going on with the question: the reply stops at once (agent/resumption.py).
    resume_window: float = 1.5
    # livekit-agents feeds the STT silence for the first 3 s of the first reply, to keep echo out
    # before the client's echo canceller converges. A caller who resumes in those seconds loses
    # the rest of the question (the STT never hears it), and a gate that answers finished
    # sentences early makes that likely, so Meridian relies on the client's echo cancellation
    # from the first word.
    aec_warmup: float | None = None
    # The caller's audio reaches the VAD in frames of this length. livekit-agents' default is
    # 50 ms, so the end of speech is noticed up to 50 ms after it arrives; 20 ms, one Opus packet,
    # is the finest that costs no more than one frame per packet.
    input_frame_ms: int = 20

    def room_options(self) -> room_io.RoomOptions:
        """How the session reads the caller's audio from the room."""
        return room_io.RoomOptions(
            audio_input=room_io.AudioInputOptions(frame_size_ms=self.input_frame_ms)
        )

    def build_vad(self) -> inference.VAD:
        """The local VAD (livekit-local-inference) configured for these settings."""
        return inference.VAD(
            min_speech_duration=self.vad_min_speech,
            min_silence_duration=self.vad_min_silence,
            activation_threshold=self.vad_activation_threshold,
        )

    def build_turn_detector(self, *, stt_language: str | None = None) -> GateTurnDetector:
        """The turn gate, in-process; `stt_language` is assumed when the STT reports none."""
        return GateTurnDetector(
            TurnGate(self.gate, assumed_language=stt_language or self.gate.languages[0])
        )

    def options(self, turn_detector: object) -> TurnHandlingOptions:
        """These settings in the shape AgentSession takes."""
        return TurnHandlingOptions(
            turn_detection=turn_detector,  # type: ignore[typeddict-item]
            endpointing={
                "mode": self.endpointing_mode,
                # the gate sets max_delay per pause; these are its finished and longest waits
                "min_delay": self.gate.finished_delay,
                "max_delay": self.gate.unfinished_delay,
            },
            interruption={
                "mode": "vad",
                "min_duration": self.interruption_min_duration,
                "min_words": self.interruption_min_words,
            },
            preemptive_generation={
                "enabled": self.preemptive_generation,
                "preemptive_tts": self.preemptive_tts,
                "max_retries": self.preemptive_max_retries,
            },
        )


DEFAULT_TURN_SETTINGS = TurnSettings()
