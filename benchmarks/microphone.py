"""A participant's microphone at real time: clips over a noise floor, and when speech was heard."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from benchmarks.clips import SAMPLE_RATE, Clip, noise_floor

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
# rtc.AudioFrame.userdata key on the frame that carries the last sample of a spoken segment;
# the scripted STT reads it, as a real recogniser would hear the speech stop.
SEGMENT_END = "meridian.bench.segment_end"
# The idle noise is this long and loops (it is periodic, so without a seam).
NOISE_LOOP_SAMPLES = SAMPLE_RATE * 8
# Before each clip, 0 to this many samples (0-19 ms) of noise, so speech does not start on a
# frame boundary.
MAX_LEAD_SAMPLES = SAMPLE_RATE * 20 // 1000 - 1


@dataclass(frozen=True)
class SpokenClip:
    """When a clip was fed (times are time.time()).

    `speech_end` is when the frame holding its last speech sample was handed to the agent, the
    true end of the user's turn; `segment_ends` and `segment_starts` are when the frames
    holding each segment's last and first speech sample were handed over.
    """

    clip: Clip
    started: float
    speech_end: float
    segment_ends: tuple[float, ...]
    segment_starts: tuple[float, ...]


@dataclass
class _Playing:
    clip: Clip
    # lead-in noise, then the clip
    samples: np.ndarray
    lead: int
    done: asyncio.Future[SpokenClip]
    pos: int = 0


class RealtimeMicrophone(io.AudioInput):
    """Feeds 20 ms frames on the wall clock, like a room's audio track.

    When idle it sends a noise floor (the clips' own: pink noise at clips.NOISE_FLOOR_DBFS,
    seeded, looped), never digital silence; each clip starts after a seeded 0-19 ms of it.
    `max_lag` is how far delivery ever fell behind the clock: the "audio falls behind real
    time" signal of the capacity benchmark.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__(label="RealtimeMicrophone")
        self._noise = noise_floor(NOISE_LOOP_SAMPLES, seed)
        self._noise_pos = 0
        self._rng = random.Random(seed)
        self._current: _Playing | None = None
        self._queue: list[tuple[Clip, asyncio.Future[SpokenClip]]] = []
        self._segment_ends: list[float] = []
        self._segment_starts: list[float] = []
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

    def _idle_noise(self, n: int) -> np.ndarray:
        """The next `n` samples of the looping noise floor."""
        idx = (self._noise_pos + np.arange(n)) % len(self._noise)
        self._noise_pos = (self._noise_pos + n) % len(self._noise)
        return self._noise[idx]

    def _next_frame(self) -> rtc.AudioFrame:
        if self._current is None and self._queue:
            clip, done = self._queue.pop(0)
            lead = self._rng.randint(0, MAX_LEAD_SAMPLES)
            samples = np.concatenate([self._idle_noise(lead), clip.samples()])
            self._current = _Playing(clip, samples, lead, done)
            self._segment_ends = []
            self._segment_starts = []
            self._started_at = time.time()
        if self._current is None:
            chunk = self._idle_noise(FRAME_SAMPLES)
            return rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES)
        playing = self._current
        pos, end = playing.pos, playing.pos + FRAME_SAMPLES
        chunk = playing.samples[pos:end]
        if len(chunk) < FRAME_SAMPLES:
            chunk = np.concatenate([chunk, self._idle_noise(FRAME_SAMPLES - len(chunk))])
        now = time.time()
        userdata = {}
        for segment in playing.clip.segments:
            if pos <= playing.lead + segment.start < end:
                self._segment_starts.append(now)
            if pos < playing.lead + segment.end <= end:
                userdata[SEGMENT_END] = segment.text
                self._segment_ends.append(now)
        frame = rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES, userdata=userdata)
        if end >= playing.lead + playing.clip.speech_end and not playing.done.done():
            playing.done.set_result(
                SpokenClip(
                    playing.clip,
                    self._started_at,
                    self._segment_ends[-1],
                    tuple(self._segment_ends),
                    tuple(self._segment_starts),
                )
            )
        playing.pos = end
        if end >= len(playing.samples):
            self._current = None
        return frame
