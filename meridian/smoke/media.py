"""The smoke test's media side: join a room, find the agent, ask a spoken question, time the reply.

`MediaSession` is the small interface the smoke test drives; `RtcMediaSession` implements it with
the livekit rtc SDK. Tests drive the smoke test with a fake participant instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import wave
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from livekit import rtc

from meridian.contract import REGION_ATTRIBUTE, REVISION_ATTRIBUTE

DEFAULT_CLIP = Path(__file__).resolve().parent / "data" / "question.wav"
# Speech sits far above -45 dBFS; decoded Opus silence and comfort noise sit far below it.
SPEECH_DBFS = -45.0
FRAME_MS = 20
# A greeting or other leftover agent speech must stop this long before the question starts.
SETTLE_QUIET_S = 0.6
SETTLE_MAX_S = 8.0
# The agent may tag itself a moment after it joins; wait this long for the attribute.
ATTRIBUTE_GRACE_S = 2.0


class ClipError(ValueError):
    """The question clip is missing or not 16-bit PCM mono WAV; str() names the file."""


@dataclass(frozen=True)
class Clip:
    """A spoken question: 16-bit mono PCM samples at `sample_rate`."""

    path: Path
    sample_rate: int
    samples: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def load_clip(path: Path = DEFAULT_CLIP) -> Clip:
    """Read a 16-bit PCM mono WAV file, or raise ClipError saying what is wrong with it."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise ClipError(f"{path}: question clip not found") from None
    except (OSError, EOFError, wave.Error) as exc:
        raise ClipError(f"{path}: not a readable WAV file ({exc})") from None
    if channels != 1 or width != 2:
        raise ClipError(
            f"{path}: the question clip must be 16-bit PCM mono; got {channels} channel(s)"
            f" of {width * 8}-bit samples"
        )
    samples = np.frombuffer(data, dtype=np.int16)
    if len(samples) < rate // 2:
        raise ClipError(f"{path}: the question clip must be at least 0.5 s long")
    return Clip(path=path, sample_rate=rate, samples=samples)


def frame_dbfs(samples: np.ndarray) -> float:
    """RMS level of 16-bit samples in dBFS (0 is full scale; silence is -inf)."""
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return -math.inf if rms == 0 else 20 * math.log10(rms / 32768.0)


def is_speech(samples: np.ndarray, threshold_dbfs: float = SPEECH_DBFS) -> bool:
    """Whether a frame is loud enough to be the agent talking rather than silence."""
    return frame_dbfs(samples) > threshold_dbfs


@dataclass(frozen=True)
class AgentPresence:
    """The agent participant that joined, with the attributes it carries."""

    identity: str
    attributes: dict[str, str]

    @property
    def region(self) -> str | None:
        return self.attributes.get(REGION_ATTRIBUTE)

    @property
    def revision(self) -> str | None:
        return self.attributes.get(REVISION_ATTRIBUTE)


@dataclass(frozen=True)
class ReplyTiming:
    """How long the question played, and the gap from its end to the agent's first sound."""

    question_ms: float
    latency_ms: float


class MediaSession(Protocol):
    """What the smoke test needs from a room participant; the caller applies every timeout."""

    async def join(self, url: str, token: str) -> None:
        """Connect to the room as the test participant."""
        ...

    async def wait_for_agent(self) -> AgentPresence:
        """Return once an agent participant is in the room."""
        ...

    async def ask(self, clip: Clip) -> ReplyTiming:
        """Publish the clip at real time and return once the agent's audio carries speech."""
        ...

    async def close(self) -> None:
        """Leave the room; safe to call at any point, more than once."""
        ...


MediaFactory = Callable[[], MediaSession]


class ReplyWatch:
    """Tracks when the agent's audio was last loud, and its first loud frame after a moment."""

    def __init__(self) -> None:
        self.last_speech: float | None = None
        self._since: float | None = None
        self._reply: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def feed(self, samples: np.ndarray, now: float) -> None:
        """Take one received frame, stamped with when it arrived."""
        if not is_speech(samples):
            return
        self.last_speech = now
        if self._since is not None and now >= self._since and not self._reply.done():
            self._reply.set_result(now)

    def watch_from(self, moment: float) -> None:
        """Look for the first loud frame at or after `moment` (the end of the question)."""
        self._since = moment
        if self.last_speech is not None and self.last_speech >= moment:
            self._reply.set_result(self.last_speech)

    async def first_reply(self) -> float:
        """When the agent first sounded at or after the watched moment."""
        return await asyncio.shield(self._reply)


class RtcMediaSession:
    """A real participant: livekit rtc Room, AudioSource/LocalAudioTrack out, AudioStream in."""

    def __init__(self) -> None:
        self._room = rtc.Room()
        self._agent_joined = asyncio.Event()
        self._attributes_changed = asyncio.Event()
        self._agent_track: asyncio.Future[rtc.RemoteAudioTrack] = (
            asyncio.get_running_loop().create_future()
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._source: rtc.AudioSource | None = None
        self._closed = False
        self._room.on("participant_connected", self._on_participant)
        self._room.on("track_subscribed", self._on_track)
        self._room.on("participant_attributes_changed", lambda *_: self._attributes_changed.set())

    def _on_participant(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            self._agent_joined.set()

    def _on_track(
        self,
        track: rtc.Track,
        _publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if (
            participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            and isinstance(track, rtc.RemoteAudioTrack)
            and not self._agent_track.done()
        ):
            self._agent_track.set_result(track)

    def _agent(self) -> rtc.RemoteParticipant | None:
        for participant in self._room.remote_participants.values():
            if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                return participant
        return None

    async def join(self, url: str, token: str) -> None:
        """Connect with auto-subscribe, so the agent's audio arrives without asking."""
        await self._room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))
        if self._agent() is not None:
            self._agent_joined.set()

    async def wait_for_agent(self) -> AgentPresence:
        """Wait for an agent participant, then briefly for its region attribute."""
        await self._agent_joined.wait()
        agent = self._agent()
        assert agent is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ATTRIBUTE_GRACE_S):
                while True:
                    self._attributes_changed.clear()
                    if REGION_ATTRIBUTE in agent.attributes:
                        break
                    await self._attributes_changed.wait()
        return AgentPresence(identity=agent.identity, attributes=dict(agent.attributes))

    async def ask(self, clip: Clip) -> ReplyTiming:
        """Publish the question, keep sending silence, and time the agent's first sound after it."""
        source = rtc.AudioSource(clip.sample_rate, 1)
        self._source = source
        track = rtc.LocalAudioTrack.create_audio_track("smoke-question", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self._room.local_participant.publish_track(track, options)

        level = ReplyWatch()
        agent_track = await self._agent_track
        self._spawn(self._listen(agent_track, level))
        await self._settle(level)

        frame_len = clip.sample_rate * FRAME_MS // 1000
        started = time.monotonic()
        for start in range(0, len(clip.samples), frame_len):
            await source.capture_frame(_frame(clip.samples[start : start + frame_len], clip))
        # capture_frame returns once queued; the question ends when the queue has played out.
        question_end = time.monotonic() + source.queued_duration
        # The agent's VAD only hears the question end if audio keeps flowing after it.
        self._spawn(self._silence(source, clip.sample_rate))
        level.watch_from(question_end)
        first_sound = await level.first_reply()
        return ReplyTiming(
            question_ms=(question_end - started) * 1000,
            latency_ms=(first_sound - question_end) * 1000,
        )

    async def _settle(self, level: ReplyWatch) -> None:
        """Let a greeting finish, so its audio is not mistaken for the reply."""
        deadline = time.monotonic() + SETTLE_MAX_S
        while time.monotonic() < deadline:
            quiet_since = level.last_speech or 0.0
            if time.monotonic() - quiet_since >= SETTLE_QUIET_S:
                return
            await asyncio.sleep(SETTLE_QUIET_S / 4)

    async def _listen(self, track: rtc.RemoteAudioTrack, level: ReplyWatch) -> None:
        stream = rtc.AudioStream.from_track(track=track, sample_rate=16000, num_channels=1)
        try:
            async for event in stream:
                level.feed(np.frombuffer(event.frame.data, dtype=np.int16), time.monotonic())
        finally:
            await stream.aclose()

    async def _silence(self, source: rtc.AudioSource, sample_rate: int) -> None:
        silent = rtc.AudioFrame.create(sample_rate, 1, sample_rate * FRAME_MS // 1000)
        while True:
            await source.capture_frame(silent)
            # Keep about 100 ms queued: real time, without racing ahead of playout.
            if source.queued_duration > 0.1:
                await asyncio.sleep(FRAME_MS / 1000)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop the audio tasks and leave the room."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._source is not None:
            await self._source.aclose()
        await self._room.disconnect()


def _frame(samples: np.ndarray, clip: Clip) -> rtc.AudioFrame:
    frame_len = clip.sample_rate * FRAME_MS // 1000
    if len(samples) < frame_len:
        samples = np.concatenate([samples, np.zeros(frame_len - len(samples), dtype=np.int16)])
    return rtc.AudioFrame(samples.tobytes(), clip.sample_rate, 1, frame_len)
