"""The benchmark microphone: a noise floor when idle, and exact times for each clip's speech."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
from livekit import rtc

from benchmarks import microphone
from benchmarks.clips import NOISE_FLOOR_DBFS, clips_of, dbfs
from benchmarks.microphone import FRAME_SAMPLES, SEGMENT_END, RealtimeMicrophone


@pytest.fixture
def frame_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Inside the microphone, time.time() reads the last value this returns: 0, 1, 2, ..."""
    ticks = itertools.count()
    now = [0]
    monkeypatch.setattr(microphone, "time", SimpleNamespace(time=lambda: float(now[0])))

    def tick() -> int:
        now[0] = next(ticks)
        return now[0]

    return tick


def _frames(mic: RealtimeMicrophone, tick: Callable[[], int], n: int) -> list[rtc.AudioFrame]:
    out = []
    for _ in range(n):
        tick()
        out.append(mic._next_frame())
    return out


def _samples(frame: rtc.AudioFrame) -> np.ndarray:
    return np.frombuffer(frame.data, dtype=np.int16)


def test_an_idle_microphone_sends_the_noise_floor_never_digital_silence(frame_clock) -> None:
    mic = RealtimeMicrophone()
    idle = np.concatenate([_samples(f) for f in _frames(mic, frame_clock, 100)])
    assert abs(dbfs(idle) - NOISE_FLOOR_DBFS) < 1.5
    assert np.count_nonzero(idle) > 0.9 * len(idle)
    again = np.concatenate([_samples(f) for f in _frames(RealtimeMicrophone(), frame_clock, 100)])
    assert np.array_equal(idle, again)  # seeded


async def test_speech_times_are_the_frames_holding_the_first_and_last_speech_samples(
    frame_clock,
) -> None:
    clip = clips_of("paused")[0]
    mic = RealtimeMicrophone(seed=5)
    leads = set()
    for _ in range(4):
        _frames(mic, frame_clock, 3)
        done = mic.say(clip)
        first_frame = frame_clock() + 1  # the tick _frames will give the clip's first frame
        frames = _frames(mic, frame_clock, len(clip.samples()) // FRAME_SAMPLES + 3)
        spoken = done.result()
        fed = np.concatenate([_samples(f) for f in frames])
        # the clip's samples follow 0-19 ms of noise
        lead = next(i for i in range(320) if np.array_equal(fed[i : i + 400], clip.samples()[:400]))
        leads.add(lead)
        for segment, start, end in zip(
            clip.segments, spoken.segment_starts, spoken.segment_ends, strict=True
        ):
            assert start - first_frame == (lead + segment.start) // FRAME_SAMPLES
            assert end - first_frame == (lead + segment.end - 1) // FRAME_SAMPLES
            marked = [i for i, f in enumerate(frames) if f.userdata.get(SEGMENT_END)]
            assert end - first_frame in marked
        assert spoken.speech_end == spoken.segment_ends[-1]
        # after the clip, the rest of the last frame and what follows is noise, not zeros
        after = fed[lead + len(clip.samples()) :]
        assert len(after) and np.count_nonzero(after) > 0.9 * len(after)
    assert len(leads) > 1
