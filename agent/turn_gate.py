"""The turn gate: after each pause, how long to wait before answering, from the transcript.

The gate scores the STT's words (agent/completeness.py) and picks the wait: short when the words
read as a finished sentence, long when they may not ("My order number is"). A language without a
text model gets the fixed wait every turn had before the gate.
`GateTurnDetector` plugs the gate into livekit-agents' turn-detector interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

import structlog
from livekit.agents import llm
from livekit.agents.language import LanguageCode

from agent.completeness import TextCompleteness
from meridian.contract import TURN_GATE_VERDICTS

Verdict = Literal["finished", "unfinished", "no_text_model"]
assert get_args(Verdict) == TURN_GATE_VERDICTS, "the log contract lists every verdict"


@dataclass(frozen=True)
class GateSettings:
    """Score thresholds and the wait after the end of speech for each verdict (seconds).

    Fitted on the benchmark's "fit" half and reported on the other (docs/benchmarks.md).
    """

    # score >= finished_at: the words read as a finished sentence. Set by benchmarks/gate_fit.py:
    # the highest threshold that 60% of the fit half's finished questions reach when each is
    # scored by a model fitted without its template family.
    finished_at: float = 0.9
    # with the VAD's 0.25 s and the STT final, answers about 0.53 s after the end of speech
    finished_delay: float = 0.35
    # covers a caller who stops to think for up to about 1.5 s mid-sentence
    unfinished_delay: float = 1.6
    # the wait every turn had before the gate: no false cut-in on 500-700 ms pauses
    fallback_delay: float = 0.8
    # primary language subtags the text model reads
    languages: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class TurnDecision:
    """What the gate decided for one pause, as the `turn` log event reports it."""

    verdict: Verdict
    score: float | None
    delay: float
    language: str | None


def primary_language(language: str | None) -> str | None:
    """ "en-US", "en_gb" and "EN" all mean "en"; None stays None."""
    if not language:
        return None
    return LanguageCode(language).language.split("-")[0].lower()


@dataclass
class TurnGate:
    """Decides the wait for a transcript in a language."""

    settings: GateSettings = field(default_factory=GateSettings)
    completeness: TextCompleteness = field(default_factory=TextCompleteness)
    # the STT's configured language, for STTs that do not report one
    assumed_language: str | None = "en"

    def decide(self, transcript: str, language: str | None) -> TurnDecision:
        """The verdict and wait for these words."""
        s = self.settings
        lang = primary_language(language) or primary_language(self.assumed_language)
        if lang not in s.languages:
            return TurnDecision("no_text_model", None, s.fallback_delay, lang)
        features = self.completeness.features(transcript)
        score = 0.0 if features is None else self.completeness.score(features)
        if score >= s.finished_at:
            return TurnDecision("finished", score, s.finished_delay, lang)
        return TurnDecision("unfinished", score, s.unfinished_delay, lang)


class EndpointingTarget(Protocol):
    """What the detector sets the wait on: AgentSession.update_options."""

    def update_options(self, *, endpointing_opts: dict[str, float]) -> None: ...


def _user_text(chat_ctx: llm.ChatContext) -> str:
    """The words of the turn in progress: the last user message in the context."""
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return item.text_content or ""
    return ""


class GateTurnDetector:
    """livekit-agents' turn-detector interface over the gate.

    The framework waits min_delay when the probability clears unlikely_threshold and max_delay
    otherwise. The session's min_delay is the gate's finished wait; for the other verdicts the
    detector sets max_delay to the chosen wait just before answering, so each pause gets the
    gate's wait and the framework's own endpointing does the waiting.
    """

    def __init__(self, gate: TurnGate) -> None:
        self.gate = gate
        self.last: TurnDecision | None = None
        self._language: str | None = None
        self._target: EndpointingTarget | None = None
        self._log = structlog.get_logger("agent.turn_gate")
        self._warned: set[str | None] = set()

    def bind(self, target: EndpointingTarget) -> None:
        """Set the session whose endpointing wait the gate controls."""
        self._target = target

    @property
    def model(self) -> str:
        return "meridian-turn-gate"

    @property
    def provider(self) -> str:
        return "meridian"

    async def supports_language(self, language: LanguageCode | None) -> bool:
        """Always: a language without a text model still gets the gate's fixed safe wait."""
        self._language = language
        return True

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        """The score below which the framework waits max_delay."""
        return self.gate.settings.finished_at

    async def predict_end_of_turn(
        self, chat_ctx: llm.ChatContext, *, timeout: float | None = None
    ) -> float:
        """The gate's score for the turn so far (0 when it has no text model for the language)."""
        decision = self.gate.decide(_user_text(chat_ctx), self._language)
        self.last = decision
        if decision.verdict == "no_text_model" and decision.language not in self._warned:
            self._warned.add(decision.language)
            self._log.info(
                "turn_gate_fallback",
                language=decision.language,
                delay=decision.delay,
                reason="no text model for this language; every pause waits the fixed delay",
            )
        if decision.verdict != "finished" and self._target is not None:
            self._target.update_options(endpointing_opts={"max_delay": decision.delay})
        return 0.0 if decision.score is None else decision.score
