"""The turn gate: its verdicts on fixed transcripts, the language fallback, and how it drives
the framework's endpointing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from livekit.agents import llm

from agent.completeness import TextCompleteness
from agent.turn_gate import GateSettings, GateTurnDetector, TurnGate
from meridian.contract import TURN_GATE_VERDICTS

SETTINGS = GateSettings()


@pytest.fixture(scope="module")
def gate() -> TurnGate:
    return TurnGate(SETTINGS)


# Fixed transcripts of each clause type, none of them a template of the generated corpus.
UNFINISHED_BY_CLAUSE = {
    "subordinate": ["I want a refund because", "If I upgrade my plan today", "I'll wait unless"],
    "relative": ["I ordered a jacket that", "I talked to a woman who", "I got a bill which"],
    "complement": ["The driver said that", "Could you find out whether", "I was told that"],
    "coordination": ["I moved house and", "I can pay today or", "The screen is cracked but"],
    "preposition": ["I have a question about", "Please send the parcel to", "I'm calling about"],
    "time": ["Every time", "As soon as", "Ever since", "When the engineer arrives"],
    "number": ["My phone number is 0 7 9", "The code is 4 4", "My order number is 7 1"],
    "date": ["I was born on the 3rd of", "The appointment is on June the", "It expires in 20"],
    "address": ["I live at 17", "The postcode is N 1", "Send it to 5"],
    "list": ["I need a plug, a cable", "It comes in red, blue", "I tried the app, the website"],
    "other": ["My order number is", "I'd like to return the", "So the problem is"],
}


@pytest.mark.parametrize("words", [w for clause in UNFINISHED_BY_CLAUSE.values() for w in clause])
def test_words_that_cannot_end_a_sentence_wait_the_longest(gate: TurnGate, words: str) -> None:
    decision = gate.decide(words, "en")
    assert (decision.verdict, decision.delay) == ("unfinished", SETTINGS.unfinished_delay)


@pytest.mark.parametrize(
    "words",
    [
        "What are your opening hours?",
        "Do you ship to Canada?",
        "How do I reset my password?",
        "Can I speak to a person?",
        "It broke so I want a refund.",
        "Who am I speaking with?",
        "Please cancel my order.",
    ],
)
def test_a_finished_question_is_answered_after_the_short_wait(gate: TurnGate, words: str) -> None:
    decision = gate.decide(words, "en")
    assert (decision.verdict, decision.delay) == ("finished", SETTINGS.finished_delay)


def test_a_wh_question_may_end_on_its_preposition_but_a_statement_may_not(gate: TurnGate) -> None:
    assert gate.decide("Which plan am I on", "en").verdict == "finished"
    assert gate.decide("I need to talk to", "en").verdict == "unfinished"


def test_the_stt_punctuation_does_not_change_the_verdict(gate: TurnGate) -> None:
    assert gate.decide("My order number is.", "en") == gate.decide("my order number is", "en")


def test_a_verb_particle_at_the_end_is_not_read_as_a_dangling_preposition(gate: TurnGate) -> None:
    assert gate.decide("I was on the phone and the call got cut off", "en").verdict == "finished"


def test_a_language_without_a_text_model_waits_the_fixed_safe_delay(gate: TurnGate) -> None:
    decision = gate.decide("Quelle heure est-il ?", "fr-FR")
    assert (decision.verdict, decision.score, decision.delay, decision.language) == (
        "no_text_model",
        None,
        SETTINGS.fallback_delay,
        "fr",
    )


def test_a_regional_english_tag_uses_the_english_model(gate: TurnGate) -> None:
    assert gate.decide("My order number is", "en-GB").verdict == "unfinished"


def test_an_stt_that_reports_no_language_gets_the_configured_one() -> None:
    assert TurnGate(SETTINGS, assumed_language="de").decide("Hallo", None).verdict == (
        "no_text_model"
    )
    english = TurnGate(SETTINGS, assumed_language="en").decide("Do you ship to Canada?", None)
    assert english.verdict == "finished"


def test_every_verdict_is_one_the_log_contract_knows(gate: TurnGate) -> None:
    verdicts = {
        gate.decide("My order number is", "en").verdict,
        gate.decide("Do you ship to Canada?", "en").verdict,
        gate.decide("Hola", "es").verdict,
    }
    assert verdicts == set(TURN_GATE_VERDICTS)


@given(st.text(max_size=300))
def test_any_transcript_scores_between_zero_and_one(text: str) -> None:
    model = TextCompleteness()
    features = model.features(text)
    assert features is None or 0.0 <= model.score(features) <= 1.0


class _Session:
    """The one AgentSession method the detector calls, recorded."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def update_options(self, *, endpointing_opts: dict[str, float]) -> None:
        self.waits.append(endpointing_opts["max_delay"])


def _context(text: str) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content=text)
    return ctx


async def _predict(text: str, language: str | None) -> tuple[float, float | None, list[float]]:
    session = _Session()
    detector = GateTurnDetector(TurnGate(SETTINGS))
    detector.bind(session)
    await detector.supports_language(language)  # type: ignore[arg-type]
    p = await detector.predict_end_of_turn(_context(text))
    return p, await detector.unlikely_threshold(language), session.waits  # type: ignore[arg-type]


async def test_an_unfinished_turn_sets_the_long_wait_and_scores_below_the_threshold() -> None:
    p, threshold, waits = await _predict("I'm calling about", "en")
    assert threshold is not None and p < threshold
    assert waits == [SETTINGS.unfinished_delay]


async def test_a_finished_turn_leaves_the_short_wait_and_scores_above_the_threshold() -> None:
    p, threshold, waits = await _predict("Do you ship to Canada?", "en")
    assert threshold is not None and p >= threshold
    assert waits == []


async def test_another_language_is_supported_with_the_fixed_wait() -> None:
    p, threshold, waits = await _predict("Wie spät ist es?", "de")
    assert threshold is not None and p < threshold
    assert waits == [SETTINGS.fallback_delay]


async def test_the_fallback_is_logged_once_per_language(logs) -> None:
    detector = GateTurnDetector(TurnGate(SETTINGS))
    for _ in range(3):
        await detector.supports_language("de")  # type: ignore[arg-type]
        await detector.predict_end_of_turn(_context("Hallo"))
    [event] = logs.events("turn_gate_fallback")
    assert (event["language"], event["delay"]) == ("de", SETTINGS.fallback_delay)


@given(st.text(max_size=40))
def test_any_language_code_an_stt_reports_gets_a_verdict(language: str) -> None:
    decision = TurnGate(SETTINGS).decide("My order number is", language)
    assert decision.verdict in ("unfinished", "no_text_model")
