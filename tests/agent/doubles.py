"""Test-only doubles for the room's audio: a paced microphone and WAV loading.

The remote-model stand-ins (batch STT, streaming LLM, batch TTS) and the instant speaker are shared
with the benchmarks and live in benchmarks/stand_ins.py.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

SAMPLE_RATE = 16000
FRAME_MS = 20


# --- room audio ------------------------------------------------------------------------------


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit WAV file as int16 samples."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path}: expected 16 kHz mono 16-bit PCM")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)


def _frames(samples: np.ndarray) -> Iterator[rtc.AudioFrame]:
    step = SAMPLE_RATE * FRAME_MS // 1000
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step]
        if len(chunk) < step:
            chunk = np.pad(chunk, (0, step - len(chunk)))
        yield rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, step)


class PacedMicrophone(io.AudioInput):
    """A microphone that plays queued utterances in real time and silence in between,
    as a participant's audio track would."""

    def __init__(self) -> None:
        super().__init__(label="PacedMicrophone")
        self._queue: list[np.ndarray] = []
        self._pending: Iterator[rtc.AudioFrame] | None = None
        self._next_at: float | None = None
        self._silence = np.zeros(SAMPLE_RATE * FRAME_MS // 1000, dtype=np.int16)
        self.utterance_done = asyncio.Event()

    def say(self, samples: np.ndarray) -> None:
        """Queue an utterance; `utterance_done` is set once its last frame has been sent."""
        self.utterance_done.clear()
        self._queue.append(samples)

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        if self._next_at is None:
            self._next_at = now
        # real-time pacing: the VAD and end-of-turn timers run on the wall clock
        if self._next_at > now:
            await asyncio.sleep(self._next_at - now)
        self._next_at += FRAME_MS / 1000
        if self._pending is None and self._queue:
            self._pending = _frames(self._queue.pop(0))
        if self._pending is not None:
            frame = next(self._pending, None)
            if frame is not None:
                return frame
            self._pending = None
            self.utterance_done.set()
        return next(_frames(self._silence))
