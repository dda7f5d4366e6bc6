"""The response cache: FAQ hits skip the LLM, repeat hits skip the TTS too."""

from __future__ import annotations

import asyncio

from tests.agent.doubles import read_wav
from tests.agent.support import DATA

OPENING_HOURS = "Um, what are your opening hours?"


def _answer(pipeline, faq_id: str) -> str:
    return next(e.answer for e in pipeline.cache.faq.entries if e.id == faq_id)


async def test_a_faq_question_is_answered_without_calling_the_llm(start_pipeline) -> None:
    pipeline = await start_pipeline(transcripts=[])
    handle = pipeline.session.generate_reply(user_input=OPENING_HOURS)
    await handle
    assert pipeline.llm.calls == []
    [reply] = [m for m in handle.chat_items if m.role == "assistant"]
    assert reply.text_content == _answer(pipeline, "opening-hours")
    assert pipeline.speaker.playouts[0].seconds > 0


async def test_a_repeat_hit_is_voiced_from_cached_audio_without_tts(start_pipeline) -> None:
    pipeline = await start_pipeline(transcripts=[])
    await pipeline.session.generate_reply(user_input=OPENING_HOURS)
    synthesised = len(pipeline.tts.calls)
    await pipeline.session.generate_reply(user_input="When are you open?")
    assert synthesised > 0
    assert len(pipeline.tts.calls) == synthesised
    first, repeat = pipeline.speaker.playouts
    assert repeat.seconds == first.seconds


async def test_a_question_outside_the_faq_goes_to_the_llm(start_pipeline) -> None:
    pipeline = await start_pipeline(transcripts=[])
    await pipeline.session.generate_reply(user_input="What is the weather in Paris?")
    assert [c.user_text for c in pipeline.llm.calls] == ["What is the weather in Paris?"]


async def test_hits_and_misses_are_logged(start_pipeline, logs) -> None:
    pipeline = await start_pipeline(transcripts=[])
    await pipeline.session.generate_reply(user_input=OPENING_HOURS)
    await pipeline.session.generate_reply(user_input="What is the weather in Paris?")
    outcomes = [(e["outcome"], e.get("faq_id")) for e in logs.events("faq_cache")]
    assert outcomes == [("hit", "opening-hours"), ("miss", None)]


async def test_a_cached_reply_is_logged_as_a_cache_hit_turn(start_pipeline, logs) -> None:
    pipeline = await start_pipeline(transcripts=[])
    await pipeline.session.generate_reply(user_input=OPENING_HOURS)
    turn = await asyncio.wait_for(logs.wait_for("turn"), timeout=5)
    assert turn["cache_hit"] is True
    assert turn["llm_ttft"] < 0.05
    # no LLM served it; the TTS did
    assert (turn["llm_provider"], turn["llm_location"]) == (None, None)
    assert turn["tts_location"] == "westeurope"


async def test_a_spoken_faq_question_never_reaches_the_llm(start_pipeline) -> None:
    # Through real audio, preemptive generation runs the llm_node before the turn ends:
    # that early attempt must be answered from the cache as well.
    pipeline = await start_pipeline(transcripts=["What are your opening hours?"])
    pipeline.mic.say(read_wav(DATA / "opening_hours_16k.wav"))
    await asyncio.wait_for(pipeline.speaker.reply_played.wait(), timeout=20)
    assert pipeline.stt.calls[0].transcript == "What are your opening hours?"
    assert pipeline.llm.calls == []
    assert pipeline.speaker.playouts[0].seconds > 0
