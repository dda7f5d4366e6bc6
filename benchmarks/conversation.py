"""One benchmark conversation: a real AgentSession fed clips at real time, recorded turn by turn."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from livekit import rtc
from livekit.agents import Agent, AgentSession, SpeechCreatedEvent, inference, llm
from livekit.agents.inference.eot.base import _BaseStreamingTurnDetectorStream
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.voice import ModelSettings, SpeechHandle
from livekit.agents.voice.turn import TurnDetectionEvent

from agent.audio_cache import Voice
from agent.faq import FaqEntry
from agent.pipeline import MeridianAgent, PipelineSettings, build_session
from agent.prompt import DEFAULT_SYSTEM_PROMPT
from agent.response_cache import ResponseCache
from agent.settings import CacheSettings
from agent.turn_gate import GateTurnDetector, TurnDecision, TurnGate
from agent.turn_handling import DEFAULT_TURN_SETTINGS, TurnSettings
from benchmarks.clips import Clip
from benchmarks.floor import Floor, ModelLatencies, TurnPath, critical_path_floor
from benchmarks.microphone import RealtimeMicrophone, SpokenClip
from benchmarks.stand_ins import (
    FakeLLM,
    InstantSpeaker,
    LlmCall,
    Playout,
    RealtimeSpeaker,
    ScriptedStreamingSTT,
    StreamingTTS,
)

# Three short spoken sentences, 36 tokens: long enough that waiting for the whole reply shows.
REPLY = (
    "Sure, I can help with that. Your order left our warehouse on Monday and should arrive by "
    "Thursday. I have sent the tracking link to your email, and you can reply there if "
    "anything looks wrong."
)


@dataclass(frozen=True)
class Variant:
    """One pipeline configuration under test."""

    name: str
    # None: livekit-agents' own defaults (no turn_handling given, plain Agent)
    turn: TurnSettings | None = DEFAULT_TURN_SETTINGS
    # who decides each pause's wait: Meridian's turn gate, the local audio end-of-turn model
    # (v1-mini) between the gate's two waits, or nobody (the VAD and the minimum wait)
    detector: Literal["gate", "audio", "vad"] = "gate"
    streaming: bool = True
    cache: bool = False
    # play replies at real time, so talking over a caller who goes on takes real time
    realtime_speaker: bool = False
    # TTS audio per reply character: 0.004 s keeps latency runs short; about 0.06 s is speech
    tts_seconds_per_char: float = 0.004


@dataclass(frozen=True)
class EotPrediction:
    """One end-of-turn model verdict and whether it sent the turn to the maximum delay."""

    at: float
    probability: float
    unlikely: bool


class _RecordingGate(GateTurnDetector):
    """Meridian's turn gate, noting each decision with its time."""

    def __init__(self, gate: TurnGate, sink: list[tuple[float, TurnDecision]]) -> None:
        super().__init__(gate)
        self._sink = sink

    async def predict_end_of_turn(
        self, chat_ctx: llm.ChatContext, *, timeout: float | None = None
    ) -> float:
        p = await super().predict_end_of_turn(chat_ctx, timeout=timeout)
        if self.last is not None:
            self._sink.append((time.time(), self.last))
        return p


@dataclass
class Turn:
    """Everything observed for one spoken clip (times are time.time())."""

    spoken: SpokenClip
    commits: list[float] = field(default_factory=list)
    first_audio: float | None = None
    framework_e2e: float | None = None
    llm_started: list[float] = field(default_factory=list)
    # (first token, last token) seconds after its start, for the call the reply came from
    llm_timing: tuple[float, float] | None = None
    eot: list[EotPrediction] = field(default_factory=list)
    gate: list[tuple[float, TurnDecision]] = field(default_factory=list)
    playouts: list[Playout] = field(default_factory=list)
    llm_calls: list[LlmCall] = field(default_factory=list)
    resumed: bool = False
    # what the caller said over the reply (Conversation.ask_over_reply), if anything
    interjection: SpokenClip | None = None
    cache_audio_hit: bool = False
    max_delay: bool = False
    path: TurnPath | None = None
    floor: Floor | None = None

    @property
    def e2e(self) -> float | None:
        """True end of speech to the agent's first audio frame out."""
        if self.first_audio is None:
            return None
        return self.first_audio - self.spoken.speech_end

    @property
    def overhead(self) -> float | None:
        """e2e minus the critical-path floor."""
        if self.e2e is None or self.floor is None:
            return None
        return self.e2e - self.floor.first_audio

    @property
    def commit_lag(self) -> float | None:
        """How much later than its floor the turn was committed (mostly the VAD's hangover)."""
        if not self.commits or self.floor is None:
            return None
        return self.commits[-1] - self.spoken.speech_end - self.floor.commit

    @property
    def cut_in(self) -> bool:
        """The agent committed the turn or started replying before the user had finished."""
        end = self.spoken.speech_end
        early_commit = any(t < end for t in self.commits)
        return early_commit or (self.first_audio is not None and self.first_audio < end)


class _CountingCache(ResponseCache):
    """Meridian's response cache, counting the turns served with cached audio."""

    audio_hits = 0

    def cached_audio(self, entry: FaqEntry, voice: Voice) -> tuple[rtc.AudioFrame, ...] | None:
        frames = super().cached_audio(entry, voice)
        self.audio_hits += frames is not None
        return frames


class _BufferedReplyAgent(MeridianAgent):
    """Meridian without streaming: the TTS gets the reply only once the LLM has finished it."""

    async def tts_node(
        self, text: AsyncIterable[str], model_settings: ModelSettings
    ) -> AsyncIterator[rtc.AudioFrame]:
        whole = "".join([chunk async for chunk in text])

        async def once() -> AsyncIterator[str]:
            yield whole

        async with contextlib.aclosing(super().tts_node(once(), model_settings)) as frames:
            async for frame in frames:
                yield frame


class _RecordingTurnDetector(inference.TurnDetector):
    """The real local end-of-turn model, noting each verdict for the turn-taking table."""

    def __init__(self, sink: list[EotPrediction]) -> None:
        super().__init__(version="v1-mini")
        self._sink = sink

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> _BaseStreamingTurnDetectorStream:
        stream = super().stream(conn_options=conn_options)
        predict = stream.predict
        threshold = self._opts.thresholds.lookup(None)

        def recorded() -> asyncio.Future[TurnDetectionEvent]:
            fut = predict()

            def note(done: asyncio.Future[TurnDetectionEvent]) -> None:
                if done.cancelled() or done.exception() is not None:
                    return
                p = done.result().end_of_turn_probability
                self._sink.append(
                    EotPrediction(time.time(), p, threshold is not None and p < threshold)
                )

            fut.add_done_callback(note)
            return fut

        stream.predict = recorded  # type: ignore[method-assign]
        return stream


class Conversation:
    """A live session on doubles; `ask` plays one clip and returns what that turn did."""

    def __init__(self, variant: Variant, models: ModelLatencies) -> None:
        self.variant = variant
        self.models = models
        self.mic = RealtimeMicrophone()
        self.speaker: InstantSpeaker | RealtimeSpeaker = (
            RealtimeSpeaker() if variant.realtime_speaker else InstantSpeaker()
        )
        self.stt = ScriptedStreamingSTT(latency=models.stt_final)
        self.llm = FakeLLM(
            REPLY, ttft=models.llm_ttft, tokens_per_second=models.llm_tokens_per_second
        )
        self.tts = StreamingTTS(
            ttfb=models.tts_first_byte, seconds_per_char=variant.tts_seconds_per_char
        )
        self.cache = _CountingCache.from_settings(CacheSettings()) if variant.cache else None
        self._predictions: list[EotPrediction] = []
        self._decisions: list[tuple[float, TurnDecision]] = []
        self._commits: list[float] = []
        self._e2e: list[float] = []
        self._state_changed = asyncio.Event()
        self.session, self.agent = self._build()
        self.session.on("agent_state_changed", lambda _: self._state_changed.set())
        self.session.on("user_state_changed", lambda _: self._state_changed.set())
        self.session.on("speech_created", self._on_speech_created)

    def _build(self) -> tuple[AgentSession, Agent]:
        variant = self.variant
        if variant.turn is None:
            # the framework's default detector is inference.TurnDetector(), which resolves to
            # the local v1-mini model off LiveKit Cloud; this is that model, recording verdicts
            session: AgentSession = AgentSession(
                stt=self.stt,
                llm=self.llm,
                tts=self.tts,
                vad=inference.VAD(),
                turn_handling={"turn_detection": _RecordingTurnDetector(self._predictions)},
            )
            agent: Agent = Agent(instructions=DEFAULT_SYSTEM_PROMPT)
        else:
            detector: object = {
                "gate": lambda: _RecordingGate(TurnGate(variant.turn.gate), self._decisions),
                "audio": lambda: _RecordingTurnDetector(self._predictions),
                "vad": lambda: "vad",
            }[variant.detector]()
            session, meridian = build_session(
                settings=PipelineSettings(turn=variant.turn),
                stt=self.stt,
                llm=self.llm,
                tts=self.tts,
                vad=variant.turn.build_vad(),
                turn_detector=detector,
                cache=self.cache,
            )
            agent = meridian
            if not variant.streaming:
                agent = _BufferedReplyAgent(instructions=DEFAULT_SYSTEM_PROMPT, cache=self.cache)
        completed = agent.on_user_turn_completed

        async def on_user_turn_completed(
            turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
        ) -> None:
            self._commits.append(time.time())
            await completed(turn_ctx, new_message)

        agent.on_user_turn_completed = on_user_turn_completed  # type: ignore[method-assign]
        session.input.audio = self.mic
        session.output.audio = self.speaker
        return session, agent

    def _on_speech_created(self, ev: SpeechCreatedEvent) -> None:
        def done(handle: SpeechHandle) -> None:
            for item in handle.chat_items:
                if isinstance(item, llm.ChatMessage) and item.role == "assistant":
                    value = item.metrics.get("e2e_latency") if item.metrics else None
                    if isinstance(value, int | float):
                        self._e2e.append(float(value))
                    return

        ev.speech_handle.add_done_callback(done)

    async def start(self) -> None:
        """Start the session (room-less: the microphone and speaker are the session's I/O)."""
        await self.session.start(agent=self.agent, record=False)

    async def aclose(self) -> None:
        """Stop the session."""
        await self.session.aclose()

    async def ask(self, clip: Clip, *, settle: float = 0.6, timeout: float = 8.0) -> Turn:
        """Speak one clip and wait until the agent has answered and gone quiet."""
        marks = self._marks()
        spoken = await self.mic.say(clip)
        await self._settled(after=spoken.speech_end, quiet=settle, timeout=timeout)
        return self._turn(spoken, marks)

    async def ask_over_reply(
        self,
        question: Clip,
        interjection: Clip,
        *,
        after: float,
        settle: float = 0.6,
        timeout: float = 15.0,
    ) -> Turn:
        """Speak a question, then `interjection` (say "mm-hm") `after` s into the agent's reply;
        the turn is the question's, with everything that followed until the agent went quiet."""
        marks = self._marks()
        spoken = await self.mic.say(question)
        deadline = time.monotonic() + timeout
        while self.session.agent_state != "speaking" and time.monotonic() < deadline:
            self._state_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), 0.05)
        await asyncio.sleep(after)
        said = await self.mic.say(interjection)
        await self._settled(after=said.speech_end, quiet=settle, timeout=timeout)
        turn = self._turn(spoken, marks)
        turn.interjection = said
        return turn

    def _marks(self) -> tuple[int, ...]:
        return (
            len(self._commits),
            len(self.speaker.playouts),
            len(self._predictions),
            len(self.llm.calls),
            len(self._e2e),
            self._audio_hits(),
            len(self._decisions),
        )

    def _audio_hits(self) -> int:
        return self.cache.audio_hits if self.cache is not None else 0

    async def _settled(self, *, after: float, quiet: float, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        answered_since = len(self.speaker.playouts)
        while time.monotonic() < deadline:
            idle = (
                self.session.agent_state == "listening"
                and self.session.user_state != "speaking"
                and self.speaker._current is None
            )
            answered = len(self.speaker.playouts) > answered_since or any(
                p.started_at and p.started_at >= after for p in self.speaker.playouts
            )
            if idle and answered:
                self._state_changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._state_changed.wait(), quiet)
                    continue
                return
            self._state_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), 0.05)

    def _turn(self, spoken: SpokenClip, marks: tuple[int, ...]) -> Turn:
        commits, playouts, predictions, calls, e2es, audio_hits, decisions = marks
        turn = Turn(spoken=spoken)
        turn.gate = self._decisions[decisions:]
        turn.playouts = list(self.speaker.playouts[playouts:])
        note = getattr(self.agent, "turn_note", None)
        turn.resumed = bool(note and note.resumed)
        turn.commits = self._commits[commits:]
        starts = [p.started_at for p in self.speaker.playouts[playouts:] if p.started_at]
        if self.speaker._current is not None and self.speaker._current.started_at:
            starts.append(self.speaker._current.started_at)
        turn.first_audio = min(starts) if starts else None
        turn.eot = self._predictions[predictions:]
        new_calls = self.llm.calls[calls:]
        turn.llm_calls = list(new_calls)
        turn.llm_started = [c.started_at for c in new_calls]
        used = new_calls[-1] if new_calls else None
        if used is not None and used.first_token_at and used.finished_at:
            turn.llm_timing = (
                used.first_token_at - used.started_at,
                used.finished_at - used.started_at,
            )
        new_e2e = self._e2e[e2es:]
        turn.framework_e2e = new_e2e[0] if new_e2e else None
        turn.cache_audio_hit = self._audio_hits() > audio_hits
        turn.path = self._path(turn)
        turn.floor = critical_path_floor(turn.path, self.models)
        return turn

    @staticmethod
    def _vad_lag(turn: Turn) -> float:
        """How far the VAD's end of speech (where the framework's e2e_latency starts) trails
        the true end; 0 when the framework reported no e2e_latency for the turn."""
        if turn.e2e is None or turn.framework_e2e is None:
            return 0.0
        return max(turn.e2e - turn.framework_e2e, 0.0)

    def _path(self, turn: Turn) -> TurnPath:
        """What the turn did, read from the session's resolved options and the observed stages."""
        options = self.session.options.turn_handling
        endpointing = options["endpointing"]
        preemptive = options["preemptive_generation"]
        vad = self.session.vad
        delay = endpointing["min_delay"]
        if self.variant.detector == "audio":
            final_pause = [p for p in turn.eot if p.at >= turn.spoken.speech_end]
            if final_pause and final_pause[-1].unlikely:
                delay = endpointing["max_delay"]
                turn.max_delay = True
        elif self.variant.detector == "gate":
            final = [d for at, d in turn.gate if at >= turn.spoken.speech_end]
            if final:
                delay = final[-1].delay
                turn.max_delay = final[-1].verdict != "finished"
        commit = turn.commits[-1] if turn.commits else None
        if turn.llm_started:
            preemptive_llm = commit is not None and turn.llm_started[-1] < commit
        else:
            preemptive_llm = bool(preemptive["enabled"])
        return TurnPath(
            vad_min_silence=(vad.min_silence_duration if vad is not None else None) or 0.0,
            endpointing_delay=delay,
            vad_lag=self._vad_lag(turn),
            preemptive_llm=preemptive_llm,
            preemptive_tts=bool(preemptive["enabled"] and preemptive["preemptive_tts"]),
            streaming=self.variant.streaming,
            llm_tokens=len(REPLY.split(" ")),
            cache_text=self.variant.cache and not turn.llm_started,
            cache_audio=turn.cache_audio_hit,
            llm_ttft=turn.llm_timing[0] if turn.llm_timing else None,
            llm_total=turn.llm_timing[1] if turn.llm_timing else None,
        )
