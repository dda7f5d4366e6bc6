"""A participant's microphone at real time: clips with silence between, and when speech ended."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from benchmarks.clips import SAMPLE_RATE, Clip

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
# rtc.AudioFrame.userdata key on the frame that carries the last sample of a spoken segment;
# the scripted STT reads it, as a real recogniser would hear the speech stop.
SEGMENT_END = "meridian.bench.segment_end"


@dataclass(frozen=True)
class SpokenClip:
    """When a clip was fed: `speech_end` is the wall-clock time (time.time()) at which the frame
    holding its last speech sample was handed to the agent, the true end of the user's turn."""

    clip: Clip
    started: float
    speech_end: float
    segment_ends: tuple[float, ...]


class RealtimeMicrophone(io.AudioInput):
    """Feeds 20 ms frames on the wall clock, like a room's audio track; silence when idle.

    `max_lag` is how far delivery ever fell behind the clock: the "audio falls behind real
    time" signal of the capacity benchmark.
    """

    def __init__(self) -> None:
        super().__init__(label="RealtimeMicrophone")
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self._current: tuple[Clip, np.ndarray, int, asyncio.Future[SpokenClip]] | None = None
        self._queue: list[tuple[Clip, asyncio.Future[SpokenClip]]] = []
        self._segment_ends: list[float] = []
        self._started_at = 0.0
        self._t0: float | None = None
        self._sent = 0
        self.max_lag = 0.0
        self.lags: list[float] = []

    def reset_lag(self) -> None:
        """Forget the delivery lag seen so far, so `max_lag` speaks for what follows."""
        self.max_lag = 0.0
        self.lags.clear()

    def say(self, clip: Clip) -> asyncio.Future[SpokenClip]:
        """Queue a clip; the future resolves once its last speech sample has been fed."""
        done: asyncio.Future[SpokenClip] = asyncio.get_running_loop().create_future()
        self._queue.append((clip, done))
        return done

    async def __anext__(self) -> rtc.AudioFrame:
        if self._t0 is None:
            self._t0 = time.monotonic()
        due = self._t0 + (self._sent + 1) * FRAME_MS / 1000
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        else:
            lag = now - due
            self.max_lag = max(self.max_lag, lag)
            self.lags.append(lag)
        self._sent += 1
        return self._next_frame()

    def _next_frame(self) -> rtc.AudioFrame:
        if self._current is None and self._queue:
            clip, done = self._queue.pop(0)
            self._current = (clip, clip.samples(), 0, done)
            self._segment_ends = []
            self._started_at = time.time()
        if self._current is None:
            return rtc.AudioFrame(self._silence.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES)
        clip, samples, pos, done = self._current
        chunk = samples[pos : pos + FRAME_SAMPLES]
        if len(chunk) < FRAME_SAMPLES:
            chunk = np.pad(chunk, (0, FRAME_SAMPLES - len(chunk)))
        end = pos + FRAME_SAMPLES
        userdata = {}
        for segment in clip.segments:
            if pos < segment.end <= end:
                userdata[SEGMENT_END] = segment.text
                self._segment_ends.append(time.time())
        frame = rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES, userdata=userdata)
        if end >= clip.speech_end and not done.done():
            done.set_result(
                SpokenClip(
                    clip, self._started_at, self._segment_ends[-1], tuple(self._segment_ends)
                )
            )
        self._current = None if end >= len(samples) else (clip, samples, end, done)
        return frame
