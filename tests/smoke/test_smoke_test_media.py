"""The smoke test's media pieces: the committed question clip, speech detection, reply timing."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc

from meridian.smoke.media import (
    DEFAULT_CLIP,
    ClipError,
    ReplyWatch,
    RtcMediaSession,
    frame_dbfs,
    is_speech,
    load_clip,
)

FRAME = 320  # 20 ms at 16 kHz


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype(np.int16).tobytes())
    return path


def tone(amplitude: float, n: int = FRAME) -> np.ndarray:
    return (amplitude * 32767 * np.sin(np.arange(n) * 2 * np.pi * 440 / 16000)).astype(np.int16)


def test_the_committed_question_is_a_few_seconds_of_16khz_mono_speech() -> None:
    clip = load_clip()

    assert clip.path == DEFAULT_CLIP
    assert clip.sample_rate == 16000
    assert 1.5 <= clip.duration_s <= 5.0
    frames = [clip.samples[i : i + FRAME] for i in range(0, len(clip.samples) - FRAME, FRAME)]
    assert sum(is_speech(f) for f in frames) > len(frames) / 3


def test_a_stereo_clip_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "stereo.wav", np.zeros(32000), channels=2)

    with pytest.raises(ClipError, match=r"stereo\.wav: .*16-bit PCM mono; got 2 channel"):
        load_clip(path)


def test_a_clip_shorter_than_half_a_second_is_refused(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "blip.wav", tone(0.5, 1600))

    with pytest.raises(ClipError, match=r"at least 0\.5 s"):
        load_clip(path)


def test_a_file_that_is_not_wav_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "question.wav"
    path.write_text("not audio")

    with pytest.raises(ClipError, match="not a readable WAV file"):
        load_clip(path)


def test_digital_silence_is_minus_infinity_dbfs() -> None:
    assert frame_dbfs(np.zeros(FRAME, dtype=np.int16)) == -math.inf


def test_a_full_scale_tone_is_about_minus_3_dbfs() -> None:
    assert frame_dbfs(tone(1.0)) == pytest.approx(-3.0, abs=0.1)


def test_speech_level_audio_counts_as_speech_and_faint_noise_does_not() -> None:
    faint = np.random.default_rng(1).normal(0, 60, FRAME).astype(np.int16)  # about -55 dBFS

    assert is_speech(tone(0.1))
    assert not is_speech(faint)


async def test_the_reply_is_the_first_loud_frame_after_the_question_ends() -> None:
    watch = ReplyWatch()
    watch.feed(tone(0.3), now=1.0)  # a greeting, before the question
    watch.watch_from(2.0)
    watch.feed(np.zeros(FRAME, dtype=np.int16), now=2.4)
    watch.feed(tone(0.3), now=2.5)
    watch.feed(tone(0.3), now=2.6)

    assert await watch.first_reply() == 2.5


async def test_speech_already_heard_after_the_question_end_counts_as_the_reply() -> None:
    watch = ReplyWatch()
    watch.feed(tone(0.3), now=3.0)
    watch.watch_from(2.9)

    assert await watch.first_reply() == 3.0


async def test_the_rtc_participant_reports_an_unreachable_server_and_still_closes() -> None:
    session = RtcMediaSession()

    with pytest.raises(rtc.ConnectError):
        await session.join("ws://127.0.0.1:9", "not-a-token")
    await session.close()
    await session.close()  # safe twice
