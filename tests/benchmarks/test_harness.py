"""The benchmark harness itself: the critical-path floor, and one real-time turn end to end."""

from __future__ import annotations

import pytest

from benchmarks.clips import clips_of, load_clips
from benchmarks.conversation import Conversation, Variant
from benchmarks.floor import ModelLatencies, TurnPath, critical_path_floor
from benchmarks.turn_latency import split_faq

MODELS = ModelLatencies()


def _path(**changes: object) -> TurnPath:
    base = dict(
        vad_min_silence=0.25,
        endpointing_delay=0.3,
        vad_lag=0.0,
        preemptive_llm=True,
        preemptive_tts=True,
        streaming=True,
        llm_tokens=36,
    )
    return TurnPath(**{**base, **changes})  # type: ignore[arg-type]


def test_streaming_floor_is_stt_then_first_token_then_first_byte_when_endpointing_is_shorter() -> (
    None
):
    floor = critical_path_floor(_path(), MODELS)
    assert floor.first_audio == pytest.approx(0.150 + 0.250 + 0.120)


def test_floor_waits_for_the_commit_when_endpointing_is_the_longest_stage() -> None:
    floor = critical_path_floor(_path(endpointing_delay=2.0), MODELS)
    assert floor.first_audio == pytest.approx(2.0)


def test_without_preemptive_generation_the_llm_starts_at_the_commit() -> None:
    floor = critical_path_floor(_path(preemptive_llm=False), MODELS)
    assert floor.first_audio == pytest.approx(0.3 + 0.250 + 0.120)


def test_without_preemptive_tts_synthesis_starts_after_the_commit() -> None:
    floor = critical_path_floor(_path(endpointing_delay=0.5, preemptive_tts=False), MODELS)
    assert floor.first_audio == pytest.approx(0.5 + 0.120)


def test_without_streaming_tts_waits_for_the_whole_reply() -> None:
    floor = critical_path_floor(_path(streaming=False), MODELS)
    assert floor.first_audio == pytest.approx(0.150 + 0.250 + 35 / 50 + 0.120)


def test_the_floor_uses_the_llm_timing_the_call_really_had() -> None:
    floor = critical_path_floor(_path(streaming=False, llm_ttft=0.26, llm_total=0.99), MODELS)
    assert floor.tts_input == pytest.approx(0.150 + 0.99)


def test_the_endpointing_wait_starts_where_the_vad_says_speech_ended() -> None:
    floor = critical_path_floor(_path(endpointing_delay=0.7, vad_lag=0.05), MODELS)
    assert floor.commit == pytest.approx(0.75)


def test_a_cached_answer_with_cached_audio_costs_only_the_endpointing_wait() -> None:
    floor = critical_path_floor(_path(cache_text=True, cache_audio=True), MODELS)
    assert floor.first_audio == pytest.approx(0.3)


def test_every_clip_has_speech_ending_inside_the_audio() -> None:
    for clip in load_clips():
        assert 0 < clip.speech_end <= len(clip.samples())


def test_paused_clips_pause_for_three_tenths_of_a_second_to_one_point_two() -> None:
    for clip in clips_of("paused"):
        first, second = clip.segments
        assert 0.28 <= (second.start - first.end) / 16000 <= 1.22


async def test_one_real_time_turn_is_measured_against_its_floor() -> None:
    from agent.server import load_local_models

    load_local_models()
    _, questions = split_faq(clips_of("complete"))
    conversation = Conversation(Variant("Meridian"), MODELS)
    await conversation.start()
    try:
        turn = await conversation.ask(questions[0], settle=0.2, timeout=6.0)
    finally:
        await conversation.aclose()
    assert turn.e2e is not None and turn.floor is not None
    assert turn.floor.first_audio >= 0.5
    assert turn.e2e >= turn.floor.first_audio - 0.01
