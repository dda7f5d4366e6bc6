"""A real audio turn, in-process: espeak-ng speech through the real local VAD and end-of-turn
models, with doubles standing in for the remote STT, LLM and TTS."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from agent.response_cache import ResponseCache
from agent.settings import CacheSettings
from agent.telemetry import MEDIA_PATH_SECONDS
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from meridian.contract import TURN_GATE_FIELDS, TURN_SERVED_FIELDS
from meridian.logs import configure_logging
from tests.agent.conftest import LogLines, launch_pipeline
from tests.agent.doubles import read_wav
from tests.agent.support import DATA

# One spoken turn (about 4 s of real-time audio) serves every test in this module.
pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Tell me something about the weather in Paris."
TURN_FIELDS = (
    "region",
    "room",
    "job_id",
    "speech_id",
    "eou_delay",
    "transcription_delay",
    "llm_ttft",
    "tts_ttfb",
    "e2e_latency",
    "heard_estimate",
    "cache_hit",
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def answered_turn():
    """One spoken question, answered; yields the pipeline and the captured logs."""
    logs = LogLines()
    configure_logging([], stream=logs.stream)
    pipeline = await launch_pipeline(
        ResponseCache.from_settings(CacheSettings()), transcripts=[QUESTION]
    )
    pipeline.mic.say(read_wav(DATA / "weather_paris_16k.wav"))
    await asyncio.wait_for(pipeline.speaker.reply_played.wait(), timeout=20)
    # the turn event is written when the speech handle completes, right after playout
    await asyncio.wait_for(logs.wait_for("turn"), timeout=5)
    yield pipeline, logs
    await pipeline.session.aclose()


async def test_the_agent_answers_speech_with_audio(answered_turn) -> None:
    pipeline, _ = answered_turn
    [playout] = pipeline.speaker.playouts
    assert not playout.interrupted
    assert playout.seconds > 0.2
    assert pipeline.stt.calls[0].transcript == QUESTION
    assert pipeline.llm.calls[0].user_text == QUESTION


async def test_tts_gets_its_first_sentence_before_the_llm_finishes(answered_turn) -> None:
    pipeline, _ = answered_turn
    [llm_call] = pipeline.llm.calls
    first_sentence = pipeline.tts.calls[0]
    assert first_sentence.text == "It is sunny in Paris today."
    assert llm_call.finished_at is not None
    assert first_sentence.started_at < llm_call.finished_at
    assert len(pipeline.tts.calls) == 3


async def test_the_turn_event_carries_every_field(answered_turn) -> None:
    _, logs = answered_turn
    [turn] = logs.events("turn")
    missing = [name for name in TURN_FIELDS if turn.get(name) is None]
    assert missing == []
    assert (turn["region"], turn["room"], turn["job_id"]) == ("eu-west", "room-1", "job-1")
    assert turn["cache_hit"] is False
    assert 0 < turn["e2e_latency"] < 5
    assert turn["llm_ttft"] >= 0.1 and turn["tts_ttfb"] >= 0.05


async def test_the_turn_event_adds_the_media_path_to_e2e_for_what_the_caller_heard(
    answered_turn,
) -> None:
    _, logs = answered_turn
    [turn] = logs.events("turn")
    assert turn["heard_estimate"] == pytest.approx(turn["e2e_latency"] + MEDIA_PATH_SECONDS)


async def test_the_turn_event_says_who_served_each_stage_and_where(answered_turn) -> None:
    _, logs = answered_turn
    [turn] = logs.events("turn")
    assert turn["location"] == "westeurope"
    assert {name: turn[name] for name in TURN_SERVED_FIELDS} == {
        "stt_provider": "azure-ai",
        "stt_deployment": "speech",
        "stt_location": "westeurope",
        "llm_provider": "azure-ai",
        "llm_deployment": "gpt-5.4-mini",
        "llm_location": "eastus",
        "tts_provider": "azure-ai",
        "tts_deployment": "en-US-AvaMultilingualNeural",
        "tts_location": "westeurope",
    }


async def test_the_turn_event_explains_the_gate_decision(answered_turn) -> None:
    _, logs = answered_turn
    [turn] = logs.events("turn")
    assert {name: turn[name] for name in TURN_GATE_FIELDS} == {
        "gate_verdict": "finished",
        "gate_score": pytest.approx(turn["gate_score"]),
        "endpointing_delay": DEFAULT_TURN_SETTINGS.gate.finished_delay,
        "resumed": False,
    }
    assert DEFAULT_TURN_SETTINGS.gate.finished_at <= turn["gate_score"] <= 1


async def test_the_session_end_event_totals_the_turns(answered_turn) -> None:
    pipeline, logs = answered_turn
    pipeline.telemetry.log_session_end(pipeline.session, "test")
    [end] = logs.events("session_end")
    assert (end["turns"], end["cache_hits"], end["cache_misses"]) == (1, 0, 1)
    assert end["e2e_latency_max"] == logs.events("turn")[0]["e2e_latency"]
