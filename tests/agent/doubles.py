"""Test doubles for the remote models and the room's audio, with configurable latencies.

Reusable by benchmarks: every double records when it was called, so a run can be timed stage by
stage without any network.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, llm, stt, tts, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer
from livekit.agents.voice import io

SAMPLE_RATE = 16000
FRAME_MS = 20


# --- speech-to-text --------------------------------------------------------------------------


@dataclass
class SttCall:
    """One recognition: when the audio arrived and when the transcript was returned."""

    started_at: float
    finished_at: float
    audio_seconds: float
    transcript: str


class FakeSTT(stt.STT):
    """Batch STT that returns scripted transcripts after `latency` seconds.

    The framework wraps a non-streaming STT with the session's VAD, so recognition starts when
    the (real) VAD sees the end of speech: `latency` is then the transcription delay.
    """

    def __init__(self, transcripts: list[str], *, latency: float = 0.1) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.latency = latency
        self._script = list(transcripts)
        self.calls: list[SttCall] = []

    @property
    def model(self) -> str:
        return "fake-stt"

    @property
    def provider(self) -> str:
        return "tests"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        started = time.time()
        frames = buffer if isinstance(buffer, list) else [buffer]
        seconds = sum(f.duration for f in frames)
        await asyncio.sleep(self.latency)
        text = self._script.pop(0) if self._script else ""
        self.calls.append(SttCall(started, time.time(), seconds, text))
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text, confidence=1.0)],
        )


# --- language model --------------------------------------------------------------------------


@dataclass
class LlmCall:
    """One chat request and the times of its first and last token."""

    started_at: float
    user_text: str | None
    first_token_at: float | None = None
    finished_at: float | None = None


class FakeLLM(llm.LLM):
    """Streams a reply word by word: first token after `ttft`, then `tokens_per_second`."""

    def __init__(
        self,
        reply: str | Callable[[llm.ChatContext], str],
        *,
        ttft: float = 0.1,
        tokens_per_second: float = 50.0,
    ) -> None:
        super().__init__()
        self.reply = reply
        self.ttft = ttft
        self.tokens_per_second = tokens_per_second
        self.calls: list[LlmCall] = []

    @property
    def model(self) -> str:
        return "fake-llm"

    @property
    def provider(self) -> str:
        return "tests"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        **_: object,
    ) -> FakeLLMStream:
        user = next(
            (m.text_content for m in reversed(chat_ctx.messages()) if m.role == "user"), None
        )
        call = LlmCall(started_at=time.time(), user_text=user)
        self.calls.append(call)
        text = self.reply(chat_ctx) if callable(self.reply) else self.reply
        return FakeLLMStream(
            self,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
            text=text,
            call=call,
        )


class FakeLLMStream(llm.LLMStream):
    def __init__(
        self,
        fake: FakeLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        text: str,
        call: LlmCall,
    ) -> None:
        super().__init__(fake, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._fake = fake
        self._text = text
        self._call = call

    async def _run(self) -> None:
        request_id = utils.shortuuid("fake_llm_")
        await asyncio.sleep(self._fake.ttft)
        # words keep their leading space, as real tokenizers do
        tokens = [w if i == 0 else " " + w for i, w in enumerate(self._text.split(" "))]
        interval = 1.0 / self._fake.tokens_per_second
        for i, token in enumerate(tokens):
            if i:
                await asyncio.sleep(interval)
            if self._call.first_token_at is None:
                self._call.first_token_at = time.time()
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role="assistant", content=token))
            )
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=request_id,
                usage=llm.CompletionUsage(
                    completion_tokens=len(tokens), prompt_tokens=10, total_tokens=10 + len(tokens)
                ),
            )
        )
        self._call.finished_at = time.time()


# --- text-to-speech --------------------------------------------------------------------------


@dataclass
class TtsCall:
    """One synthesis request (the framework sends one sentence at a time)."""

    text: str
    started_at: float
    first_audio_at: float | None = None


class FakeTTS(tts.TTS):
    """Batch TTS: audio after `ttfb`, `seconds_per_char` of tone per input character.

    Being non-streaming, the framework feeds it sentence by sentence, like Azure Speech.
    """

    def __init__(self, *, ttfb: float = 0.1, seconds_per_char: float = 0.005) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=24000, num_channels=1
        )
        self.ttfb = ttfb
        self.seconds_per_char = seconds_per_char
        self.calls: list[TtsCall] = []

    @property
    def model(self) -> str:
        return "fake-tts"

    @property
    def provider(self) -> str:
        return "tests"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> FakeChunkedStream:
        call = TtsCall(text=text, started_at=time.time())
        self.calls.append(call)
        return FakeChunkedStream(self, text, conn_options, call)


class FakeChunkedStream(tts.ChunkedStream):
    def __init__(
        self, fake: FakeTTS, text: str, conn_options: APIConnectOptions, call: TtsCall
    ) -> None:
        super().__init__(tts=fake, input_text=text, conn_options=conn_options)
        self._fake = fake
        self._call = call

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid("fake_tts_"),
            sample_rate=self._fake.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        await asyncio.sleep(self._fake.ttfb)
        self._call.first_audio_at = time.time()
        seconds = max(len(self.input_text) * self._fake.seconds_per_char, 0.05)
        t = np.arange(int(seconds * self._fake.sample_rate)) / self._fake.sample_rate
        tone = (0.2 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
        output_emitter.push(tone.tobytes())
        output_emitter.flush()


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


@dataclass
class Playout:
    """One agent reply as the room would have played it."""

    frames: list[rtc.AudioFrame] = field(default_factory=list)
    started_at: float | None = None
    interrupted: bool = False

    @property
    def seconds(self) -> float:
        return sum(f.duration for f in self.frames)


class InstantSpeaker(io.AudioOutput):
    """Audio output that 'plays' each reply the moment it is flushed, recording its frames."""

    def __init__(self) -> None:
        super().__init__(
            label="InstantSpeaker", capabilities=io.AudioOutputCapabilities(pause=False)
        )
        self.playouts: list[Playout] = []
        self._current: Playout | None = None
        self.reply_played = asyncio.Event()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._current is None:
            self._current = Playout(started_at=time.time())
            self.on_playback_started(created_at=self._current.started_at or time.time())
        self._current.frames.append(frame)

    def flush(self) -> None:
        super().flush()
        self._finish(interrupted=False)

    def clear_buffer(self) -> None:
        self._finish(interrupted=True)

    def _finish(self, *, interrupted: bool) -> None:
        playout, self._current = self._current, None
        if playout is None:
            return
        playout.interrupted = interrupted
        self.playouts.append(playout)
        loop = asyncio.get_running_loop()
        loop.call_soon(self._report, playout)

    def _report(self, playout: Playout) -> None:
        self.on_playback_finished(
            playback_position=playout.seconds, interrupted=playout.interrupted
        )
        self.reply_played.set()
