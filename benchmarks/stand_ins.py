"""Stand-ins for the remote STT, LLM and TTS, with fixed latencies and call timestamps, and an
instant speaker: shared by the benchmarks and the agent tests (tests import them from here;
benchmarks never import tests).

Batch models (`FakeSTT`, `FakeTTS`): the framework's VAD adapter starts a batch STT only after the
VAD's end of speech, and feeds a batch TTS whole sentences, as with Azure Speech. Streaming models
(`ScriptedStreamingSTT`, `StreamingTTS`): today's fast hosted models stream, so the benchmark
uses these: the STT finals a segment a fixed time after its last speech sample arrives, and the
TTS answers a fixed time after its first text. `FakeLLM` streams a reply token by token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, llm, stt, tts, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer
from livekit.agents.voice import io

from benchmarks.microphone import SEGMENT_END


@dataclass
class SttFinal:
    """One final transcript: when its segment's last audio reached the STT, and when it was sent."""

    text: str
    audio_at: float
    sent_at: float = 0.0


class ScriptedStreamingSTT(stt.STT):
    """Streaming STT: a segment's final transcript `latency` s after its last speech frame arrives.

    The transcript is the segment's text from the clip manifest: a perfect recogniser, so turn
    timing is all that varies.
    """

    def __init__(self, *, latency: float) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.latency = latency
        self.finals: list[SttFinal] = []

    @property
    def model(self) -> str:
        return "scripted-streaming-stt"

    @property
    def provider(self) -> str:
        return "benchmarks"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        raise NotImplementedError("the benchmark STT only streams")

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _ScriptedStream(self, conn_options=conn_options)


class _ScriptedStream(stt.RecognizeStream):
    def __init__(self, owner: ScriptedStreamingSTT, *, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=owner, conn_options=conn_options)
        self._owner = owner

    async def _run(self) -> None:
        pending: set[asyncio.Task[None]] = set()
        try:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    continue
                text = item.userdata.get(SEGMENT_END)
                if text:
                    final = SttFinal(text=text, audio_at=time.time())
                    task = asyncio.create_task(self._send_final(final))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        finally:
            await utils.aio.cancel_and_wait(*pending)

    async def _send_final(self, final: SttFinal) -> None:
        await asyncio.sleep(final.audio_at + self._owner.latency - time.time())
        final.sent_at = time.time()
        self._owner.finals.append(final)
        data = stt.SpeechData(language=LanguageCode("en"), text=final.text, confidence=1.0)
        self._event_ch.send_nowait(
            stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH, alternatives=[data])
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data])
        )
        self._event_ch.send_nowait(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))


@dataclass
class TtsRequest:
    """One streamed synthesis: when its first text arrived and when its first audio left."""

    first_text_at: float | None = None
    first_audio_at: float | None = None
    text: list[str] = field(default_factory=list)


class StreamingTTS(tts.TTS):
    """Streaming TTS: first audio `ttfb` s after the first text, then audio as text arrives.

    Audio is a quiet tone, `seconds_per_char` per character: short replies keep runs quick.
    """

    def __init__(self, *, ttfb: float, seconds_per_char: float = 0.004) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True), sample_rate=24000, num_channels=1
        )
        self.ttfb = ttfb
        self.seconds_per_char = seconds_per_char
        self.requests: list[TtsRequest] = []

    @property
    def model(self) -> str:
        return "streaming-tts"

    @property
    def provider(self) -> str:
        return "benchmarks"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        raise NotImplementedError("the benchmark TTS only streams")

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.SynthesizeStream:
        request = TtsRequest()
        self.requests.append(request)
        return _TtsStream(self, request, conn_options=conn_options)

    def tone(self, text: str) -> bytes:
        """PCM for `text`: a 220 Hz tone of seconds_per_char per character."""
        n = max(int(len(text) * self.seconds_per_char * self.sample_rate), 480)
        t = np.arange(n) / self.sample_rate
        return (0.1 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()


class _TtsStream(tts.SynthesizeStream):
    def __init__(
        self, owner: StreamingTTS, request: TtsRequest, *, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(tts=owner, conn_options=conn_options)
        self._owner = owner
        self._request = request

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid("bench_tts_"),
            sample_rate=self._owner.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            frame_size_ms=20,
            stream=True,
        )
        started = False
        buffered: list[str] = []
        first_audio_due: float | None = None
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                if started:
                    await self._until(first_audio_due)
                    self._emit(output_emitter, buffered)
                    output_emitter.end_segment()
                    started = False
                continue
            if not started:
                started = True
                output_emitter.start_segment(segment_id=utils.shortuuid("seg_"))
            if self._request.first_text_at is None:
                self._request.first_text_at = time.time()
                first_audio_due = self._request.first_text_at + self._owner.ttfb
            self._request.text.append(item)
            buffered.append(item)
            # the first audio is due ttfb after the first text; later text is voiced on arrival
            await self._until(first_audio_due)
            self._emit(output_emitter, buffered)

    async def _until(self, when: float | None) -> None:
        if when is not None and when > time.time():
            await asyncio.sleep(when - time.time())

    def _emit(self, emitter: tts.AudioEmitter, buffered: list[str]) -> None:
        if not buffered:
            return
        if self._request.first_audio_at is None:
            self._request.first_audio_at = time.time()
        emitter.push(self._owner.tone("".join(buffered)))
        emitter.flush()
        buffered.clear()


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
        return "stand-in"

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
    # every user message in the request, oldest first: what the reply could know of the caller
    user_texts: tuple[str, ...] = ()
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
        return "stand-in"

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
        said = tuple(m.text_content or "" for m in chat_ctx.messages() if m.role == "user")
        call = LlmCall(started_at=time.time(), user_text=user, user_texts=said)
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
        return "stand-in"

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


# --- room audio output -----------------------------------------------------------------------


@dataclass
class Playout:
    """One agent reply as the room would have played it."""

    frames: list[rtc.AudioFrame] = field(default_factory=list)
    started_at: float | None = None
    interrupted: bool = False
    # when the caller stopped hearing it (RealtimeSpeaker only)
    stopped_at: float | None = None

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


class RealtimeSpeaker(io.AudioOutput):
    """Audio output that plays each reply at real time, as a caller hears it.

    A reply occupies the line for its length, so the benchmark can measure how long the agent
    talked over a caller who went on speaking, and how fast it stopped.
    """

    def __init__(self) -> None:
        super().__init__(
            label="RealtimeSpeaker", capabilities=io.AudioOutputCapabilities(pause=False)
        )
        self.playouts: list[Playout] = []
        self._current: Playout | None = None
        self._queued = 0.0
        self._done: asyncio.TimerHandle | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._current is None:
            self._current = Playout(started_at=time.time())
            self._queued = 0.0
            self.on_playback_started(created_at=self._current.started_at or time.time())
        self._current.frames.append(frame)
        self._queued += frame.duration

    def flush(self) -> None:
        super().flush()
        playout = self._current
        if playout is None or playout.started_at is None:
            return
        left = playout.started_at + self._queued - time.time()
        loop = asyncio.get_running_loop()
        self._done = loop.call_later(max(left, 0.0), self._finish, False)

    def clear_buffer(self) -> None:
        self._finish(True)

    def _finish(self, interrupted: bool) -> None:
        if self._done is not None:
            self._done.cancel()
            self._done = None
        playout, self._current = self._current, None
        if playout is None or playout.started_at is None:
            return
        now = time.time()
        played = min(now - playout.started_at, self._queued)
        playout.interrupted = interrupted
        playout.stopped_at = playout.started_at + played
        self.playouts.append(playout)
        self.on_playback_finished(playback_position=played, interrupted=interrupted)
