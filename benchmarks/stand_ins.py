"""Streaming stand-ins for the remote STT and TTS, with fixed latencies and call timestamps.

tests/agent/doubles.py has batch doubles (the framework's VAD adapter starts a batch STT only
after the VAD's end of speech, and feeds a batch TTS whole sentences). Today's fast hosted
models stream, so the benchmark needs streaming ones: the STT finals a segment a fixed time after
its last speech sample arrives, and the TTS answers a fixed time after its first text.
The LLM stand-in is tests/agent/doubles.FakeLLM as is.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
from livekit.agents import APIConnectOptions, stt, tts, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer

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
