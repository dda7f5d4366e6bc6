"""The audio cache is bounded by bytes and evicts the least recently used clip."""

from __future__ import annotations

from livekit import rtc

from agent.audio_cache import AudioCache, AudioKey


def _clip(samples: int) -> list[rtc.AudioFrame]:
    return [rtc.AudioFrame(bytes(samples * 2), 16000, 1, samples)]


def test_a_stored_clip_is_returned_for_the_same_answer_and_voice() -> None:
    cache = AudioCache(budget_bytes=10_000)
    cache.put(AudioKey("hours", "voice-a"), _clip(100))
    assert cache.get(AudioKey("hours", "voice-a")) is not None
    assert cache.get(AudioKey("hours", "voice-b")) is None


def test_the_least_recently_used_clip_is_evicted_past_the_budget() -> None:
    cache = AudioCache(budget_bytes=1_000)
    cache.put(AudioKey("a", "v"), _clip(200))  # 400 bytes
    cache.put(AudioKey("b", "v"), _clip(200))
    cache.get(AudioKey("a", "v"))
    cache.put(AudioKey("c", "v"), _clip(200))
    assert cache.get(AudioKey("b", "v")) is None
    assert cache.get(AudioKey("a", "v")) is not None
    assert cache.size_bytes <= 1_000


def test_a_clip_larger_than_the_budget_is_not_stored() -> None:
    cache = AudioCache(budget_bytes=100)
    assert cache.put(AudioKey("a", "v"), _clip(200)) is False
    assert len(cache) == 0
