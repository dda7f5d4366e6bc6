"""One `turn` log event per agent reply and one `session_end` per session.

The logging itself (JSON lines on stdout, secrets redacted) is meridian.logs.configure_logging.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from livekit.agents import AgentSession, ConversationItemAddedEvent, SpeechCreatedEvent
from livekit.agents.llm import ChatMessage, MetricsReport
from livekit.agents.voice import SpeechHandle

from agent.providers import Placements
from agent.turn_gate import TurnDecision
from meridian.contract import (
    MODEL_STAGES,
    SESSION_END_EVENT,
    TURN_EVENT,
    TURN_GATE_FIELDS,
    TURN_SERVED_FIELDS,
    TURN_TIMING_FIELDS,
)

# The ChatMessage.extra key that marks a reply served from the FAQ cache (see agent/pipeline.py).
CACHE_MARK = "meridian_faq"
# Where each of the `turn` event's timing fields comes from: the user message's metrics or the
# assistant reply's, and the livekit-agents MetricsReport key.
_TIMING_SOURCES = {
    "eou_delay": ("user", "end_of_turn_delay"),
    "transcription_delay": ("user", "transcription_delay"),
    "llm_ttft": ("assistant", "llm_node_ttft"),
    "tts_ttfb": ("assistant", "tts_node_ttfb"),
    "e2e_latency": ("assistant", "e2e_latency"),
}
# What the caller hears beyond the agent's e2e: capture, Opus, the hop in, the agent's receive
# jitter buffer and its VAD's view of the end of speech, and on the way out its output queue,
# the hop, the caller's jitter buffer and decoding. Measured through the real LiveKit server on
# loopback, fitted on the fit half of the clips (benchmarks/heard_latency.py, 2026-12-03). It
# leaves out the network: a deployment adds the caller's and the agent's round trips to LiveKit.
MEDIA_PATH_SECONDS = 0.16
assert (*_TIMING_SOURCES, "heard_estimate") == TURN_TIMING_FIELDS, "log every contract field"
# Where the metadata of the instance that served each stage is: livekit-agents stamps it on the
# user message (STT) and the reply (LLM, TTS), also through a FallbackAdapter.
_SERVED_SOURCES = {"stt": "user", "llm": "assistant", "tts": "assistant"}


@dataclass(frozen=True)
class TurnNote:
    """How a user turn was ended: the gate's decision (None when no gate ran) and whether the
    caller resumed after the agent had started answering the first part."""

    decision: TurnDecision | None
    resumed: bool

    def log_fields(self) -> dict[str, object]:
        """The `turn` event's gate fields, in TURN_GATE_FIELDS order."""
        d = self.decision
        fields = {
            "gate_verdict": d.verdict if d else None,
            "gate_score": round(d.score, 4) if d and d.score is not None else None,
            "endpointing_delay": d.delay if d else None,
            "resumed": self.resumed,
        }
        return fields


_NO_NOTE = TurnNote(decision=None, resumed=False)
assert len(TURN_SERVED_FIELDS) == 3 * len(MODEL_STAGES)
assert tuple(_NO_NOTE.log_fields()) == TURN_GATE_FIELDS, "telemetry must log every gate field"


def _seconds(report: MetricsReport | None, key: str) -> float | None:
    if report is None:
        return None
    value = report.get(key)
    return round(float(value), 4) if isinstance(value, int | float) else None


@dataclass
class _Totals:
    turns: int = 0
    cache_hits: int = 0
    interrupted: int = 0
    e2e: list[float] = field(default_factory=list)


class TurnTelemetry:
    """Logs one `turn` event per agent reply from livekit-agents' own per-turn metrics
    (ChatMessage.metrics), and a `session_end` event with the session's totals."""

    def __init__(
        self,
        *,
        region: str,
        room: str,
        job_id: str,
        location: str | None = None,
        placements: Placements | None = None,
    ) -> None:
        self._log = structlog.get_logger("agent.turns").bind(
            region=region, location=location, room=room, job_id=job_id
        )
        self._placements = placements or Placements()
        self._pending_user: MetricsReport | None = None
        self._pending_note = _NO_NOTE
        self._notes: Callable[[], TurnNote | None] = lambda: None
        self._totals = _Totals()
        self._started = time.monotonic()

    def attach(
        self, session: AgentSession, notes: Callable[[], TurnNote | None] | None = None
    ) -> None:
        """Start listening to the session's events; `notes` tells how the latest user turn
        was ended (MeridianAgent.turn_note)."""
        if notes is not None:
            self._notes = notes
        session.on("conversation_item_added", self._on_item_added)
        session.on("speech_created", self._on_speech_created)

    def _on_item_added(self, ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, ChatMessage) and ev.item.role == "user":
            # the user message is added when its reply is scheduled, before that reply plays
            self._pending_user = ev.item.metrics
            self._pending_note = self._notes() or _NO_NOTE

    def _on_speech_created(self, ev: SpeechCreatedEvent) -> None:
        ev.speech_handle.add_done_callback(self._on_speech_done)

    def _on_speech_done(self, handle: SpeechHandle) -> None:
        replies = [
            item
            for item in handle.chat_items
            if isinstance(item, ChatMessage) and item.role == "assistant"
        ]
        if not replies:
            return
        user, self._pending_user = self._pending_user, None
        note, self._pending_note = self._pending_note, _NO_NOTE
        self.log_turn(speech_id=handle.id, reply=replies[0], user=user, note=note)

    def log_turn(
        self,
        *,
        speech_id: str,
        reply: ChatMessage,
        user: MetricsReport | None,
        note: TurnNote = _NO_NOTE,
    ) -> None:
        """Write the `turn` event for one agent reply."""
        reports = {"user": user, "assistant": reply.metrics}
        timings = {
            name: _seconds(reports[source], key) for name, (source, key) in _TIMING_SOURCES.items()
        }
        e2e = timings["e2e_latency"]
        timings["heard_estimate"] = None if e2e is None else round(e2e + MEDIA_PATH_SECONDS, 4)
        cache_hit = bool(reply.extra.get(CACHE_MARK))
        self._totals.turns += 1
        self._totals.cache_hits += int(cache_hit)
        self._totals.interrupted += int(reply.interrupted)
        if e2e is not None:
            self._totals.e2e.append(e2e)
        self._log.info(
            TURN_EVENT,
            speech_id=speech_id,
            **timings,
            cache_hit=cache_hit,
            interrupted=reply.interrupted,
            **note.log_fields(),
            **self._served(reports, cache_hit),
        )

    def _served(
        self, reports: dict[str, MetricsReport | None], cache_hit: bool
    ) -> dict[str, str | None]:
        """Provider, deployment and location of each stage's serving instance (TURN_SERVED_FIELDS)."""
        fields: dict[str, str | None] = {}
        for stage in MODEL_STAGES:
            report = reports[_SERVED_SOURCES[stage]]
            metadata = report.get(f"{stage}_metadata") if report else None  # type: ignore[misc]
            if stage == "llm" and cache_hit:
                metadata = None  # the FAQ cache answered; no LLM was called
            served = self._placements.resolve(stage, metadata)
            fields[f"{stage}_provider"] = served.provider if served else None
            fields[f"{stage}_deployment"] = (
                served.deployment if served else (metadata or {}).get("model_name")
            )
            fields[f"{stage}_location"] = served.location if served else None
        return fields

    def log_session_end(self, session: AgentSession | None, reason: str) -> None:
        """Write the `session_end` event with this session's totals."""
        totals = self._totals
        e2e = sorted(totals.e2e)
        usage: list[dict[str, Any]] = []
        if session is not None:
            usage = [u.model_dump() for u in session.usage.model_usage]
        self._log.info(
            SESSION_END_EVENT,
            reason=reason,
            duration=round(time.monotonic() - self._started, 3),
            turns=totals.turns,
            cache_hits=totals.cache_hits,
            cache_misses=totals.turns - totals.cache_hits,
            interrupted_turns=totals.interrupted,
            e2e_latency_mean=round(statistics.fmean(e2e), 4) if e2e else None,
            e2e_latency_p50=round(statistics.median(e2e), 4) if e2e else None,
            e2e_latency_max=e2e[-1] if e2e else None,
            usage=usage,
        )
