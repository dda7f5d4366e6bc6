"""The audio store: keyed by the words and the voice, bounded in bytes (least recently used goes
first), shared through one directory, and never serving a partial or foreign clip."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from livekit import rtc

from agent.audio_cache import STALE_TEMP_SECONDS, AudioCache, AudioKey, Voice, new_store_dir

VOICE = Voice("azure", "neural", "en-US-AvaMultilingualNeural/en-US", 24000, 1)
HOURS = "We're open Monday to Friday."


def _clip(samples: int, value: int = 1) -> list[rtc.AudioFrame]:
    pcm = value.to_bytes(2, "little", signed=True) * samples
    return [rtc.AudioFrame(pcm, 24000, 1, samples)]


def _key(text: str = HOURS, **voice: object) -> AudioKey:
    fields = {**VOICE.__dict__, **voice}
    return AudioKey(text, Voice(**fields))  # type: ignore[arg-type]


def test_a_stored_clip_comes_back_sample_for_sample(tmp_path: Path) -> None:
    cache = AudioCache(budget_bytes=1_000_000, directory=tmp_path)
    frames = _clip(480, value=7) + _clip(240, value=-3)
    assert cache.put(_key(), frames)
    got = cache.get(_key())
    assert got is not None
    assert [bytes(f.data) for f in got] == [bytes(f.data) for f in frames]
    assert [(f.sample_rate, f.num_channels) for f in got] == [(24000, 1), (24000, 1)]


def test_another_cache_on_the_same_directory_replays_the_clip(tmp_path: Path) -> None:
    # what a second job process sees: its own AudioCache over the worker's directory
    AudioCache(budget_bytes=1_000_000, directory=tmp_path).put(_key(), _clip(480))
    assert AudioCache(budget_bytes=1_000_000, directory=tmp_path).get(_key()) is not None


def test_a_clip_is_reused_only_for_the_same_words_and_voice(tmp_path: Path) -> None:
    cache = AudioCache(budget_bytes=1_000_000, directory=tmp_path)
    cache.put(_key(), _clip(480))
    assert cache.get(_key("We're open Monday to Saturday.")) is None
    assert cache.get(_key(voice="en-GB-SoniaNeural/en-GB")) is None
    assert cache.get(_key(model="other")) is None
    assert cache.get(_key(provider="livekit")) is None
    assert cache.get(_key(sample_rate=16000)) is None
    assert cache.get(_key()) is not None


def test_the_least_recently_used_clip_is_evicted_past_the_byte_budget(tmp_path: Path) -> None:
    sizer = AudioCache(budget_bytes=10**9)
    sizer.put(_key("a"), _clip(200))
    clip_bytes = sizer.size_bytes
    # room for two clips, not three
    cache = AudioCache(budget_bytes=2 * clip_bytes + clip_bytes // 2, directory=tmp_path)
    cache.put(_key("a"), _clip(200))
    cache.put(_key("b"), _clip(200))
    _age(cache, _key("a"), _key("b"))
    assert cache.get(_key("a")) is not None  # a is now the most recently used
    cache.put(_key("c"), _clip(200))
    assert cache.get(_key("b")) is None
    assert cache.get(_key("a")) is not None
    assert cache.get(_key("c")) is not None
    assert cache.size_bytes <= cache.budget_bytes


def _age(cache: AudioCache, *keys: AudioKey) -> None:
    """Make the clips' last use an hour ago, in the given order (file times are the recency)."""
    past = time.time() - 3600
    for i, key in enumerate(keys):
        path = cache.directory / key.file_name()
        os.utime(path, (past + i, past + i))


def test_a_clip_larger_than_the_budget_is_not_stored(tmp_path: Path) -> None:
    cache = AudioCache(budget_bytes=100, directory=tmp_path)
    assert cache.put(_key(), _clip(200)) is False
    assert len(cache) == 0


def test_a_truncated_clip_is_a_miss_and_is_removed(tmp_path: Path) -> None:
    cache = AudioCache(budget_bytes=1_000_000, directory=tmp_path)
    cache.put(_key(), _clip(480))
    path = tmp_path / _key().file_name()
    path.write_bytes(path.read_bytes()[:-10])
    assert cache.get(_key()) is None
    assert not path.exists()


def test_a_file_that_is_not_a_clip_is_a_miss(tmp_path: Path) -> None:
    cache = AudioCache(budget_bytes=1_000_000, directory=tmp_path)
    (tmp_path / _key().file_name()).write_bytes(b"not audio at all")
    assert cache.get(_key()) is None


def test_a_clip_is_published_whole_by_renaming_a_finished_file(tmp_path: Path) -> None:
    cache = AudioCache(budget_bytes=1_000_000, directory=tmp_path)
    cache.put(_key(), _clip(480))
    # nothing but the finished clip is left: no temporary file, no partial name
    assert [p.name for p in tmp_path.iterdir()] == [_key().file_name()]


def test_a_temporary_file_left_by_a_dead_writer_is_swept(tmp_path: Path) -> None:
    left = tmp_path / ".writing-abandoned"
    left.write_bytes(b"half a clip")
    old = time.time() - STALE_TEMP_SECONDS - 1
    os.utime(left, (old, old))
    AudioCache(budget_bytes=1_000_000, directory=tmp_path).put(_key(), _clip(480))
    assert not left.exists()


def test_the_workers_store_is_a_private_directory() -> None:
    path = new_store_dir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_a_store_that_cannot_be_written_costs_the_cache_not_the_call(tmp_path: Path) -> None:
    gone = tmp_path / "removed"
    cache = AudioCache(budget_bytes=1_000_000, directory=gone)
    assert cache.put(_key(), _clip(480)) is False
    assert cache.get(_key()) is None
    assert len(cache) == 0
