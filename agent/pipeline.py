"""The voice pipeline: an Agent that answers FAQ turns from the cache, and its AgentSession."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from livekit import rtc
from livekit.agents import Agent, AgentSession, llm, stt, tts, utils, vad
from livekit.agents.voice import ModelSettings

from agent.audio_cache import Voice
from agent.faq import FaqEntry
from agent.prompt import DEFAULT_SYSTEM_PROMPT
from agent.response_cache import ResponseCache
from agent.resumption import ResumeWatch, fold_resumed_turn
from agent.telemetry import CACHE_MARK, TurnNote
from agent.turn_gate import GateTurnDetector
from agent.turn_handling import DEFAULT_TURN_SETTINGS, TurnSettings


@dataclass(frozen=True)
class PipelineSettings:
    """What shapes a conversation, independent of where the models run."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    turn: TurnSettings = DEFAULT_TURN_SETTINGS
    # the configured TTS voice and language: part of the cached audio's key
    tts_voice: str = ""
    # At session close, how long to wait for the STT's last transcript so the final user turn
    # still reaches the chat history; the framework's default.
    close_transcript_timeout: float = 2.0


def _last_user_text(chat_ctx: llm.ChatContext) -> str | None:
    """The text of the turn being answered, or None when the last message is not the user's."""
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role in ("user", "assistant"):
            return item.text_content if item.role == "user" else None
        if item.type in ("function_call", "function_call_output"):
            return None
    return None


def _normalised(text: str) -> str:
    return " ".join(text.split())


class MeridianAgent(Agent):
    """The region's agent: streams LLM text into TTS, and short-circuits FAQ turns."""

    def __init__(
        self,
        *,
        instructions: str,
        cache: ResponseCache | None,
        resume: ResumeWatch | None = None,
        gate: GateTurnDetector | None = None,
        tts_voice: str = "",
        history: llm.ChatContext | None = None,
    ) -> None:
        super().__init__(instructions=instructions, chat_ctx=history)
        self._cache = cache
        self._tts_voice = tts_voice
        self._resume = resume
        self._gate = gate
        # FAQ answers that llm_node produced and tts_node has not yet voiced, by entry id
        self._unvoiced: dict[str, FaqEntry] = {}
        self.turn_note: TurnNote | None = None

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        """Answer a resumed question whole: fold the first part in and drop the reply to it."""
        resumed = self._resume.committed() if self._resume is not None else False
        if resumed:
            folded = fold_resumed_turn(self.chat_ctx, turn_ctx, new_message)
            if folded is not None:
                await self.update_chat_ctx(folded)
        decision = self._gate.last if self._gate is not None else None
        self.turn_note = TurnNote(decision=decision, resumed=resumed)

    async def llm_node(
        self,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        model_settings: ModelSettings,
    ) -> AsyncIterator[llm.ChatChunk | str]:
        """The FAQ answer when the turn matches one, otherwise the LLM's streamed reply."""
        user_text = _last_user_text(chat_ctx) if self._cache is not None else None
        found = self._cache.lookup(user_text) if self._cache and user_text else None
        if found is None:
            async with contextlib.aclosing(
                Agent.default.llm_node(self, chat_ctx, tools, model_settings)
            ) as stream:
                async for chunk in stream:
                    yield chunk  # type: ignore[misc]
            return
        entry = found.entry
        self._unvoiced[entry.id] = entry
        # one chunk carrying the whole answer; the mark rides on the assistant message so the
        # turn log can tell a cached reply from a generated one
        yield llm.ChatChunk(
            id=utils.shortuuid("faq_"),
            delta=llm.ChoiceDelta(
                role="assistant", content=entry.answer, extra={CACHE_MARK: entry.id}
            ),
        )

    async def tts_node(
        self, text: AsyncIterable[str], model_settings: ModelSettings
    ) -> AsyncIterator[rtc.AudioFrame]:
        """Cached audio for an FAQ answer heard before; otherwise the TTS, sentence by sentence."""
        entry, replay = await self._take_unvoiced_answer(text)
        voice = self._voice()
        if entry is None or self._cache is None or voice is None:
            async with contextlib.aclosing(
                Agent.default.tts_node(self, replay, model_settings)
            ) as frames:
                async for frame in frames:
                    yield frame
            return
        cached = self._cache.cached_audio(entry, voice)
        if cached is not None:
            for frame in cached:
                yield frame
            return
        recorded: list[rtc.AudioFrame] = []
        async with contextlib.aclosing(
            Agent.default.tts_node(self, replay, model_settings)
        ) as frames:
            async for frame in frames:
                recorded.append(frame)
                yield frame
        # only reached when synthesis ran to the end: an interrupted clip is never cached
        self._cache.store_audio(entry, voice, recorded)

    async def _take_unvoiced_answer(
        self, text: AsyncIterable[str]
    ) -> tuple[FaqEntry | None, AsyncIterable[str]]:
        """Whether this TTS input is an FAQ answer from llm_node, and the input to replay.

        An LLM reply passes through untouched after its first chunk, since no answer starts
        like it; with no FAQ answer waiting, nothing is read ahead at all.
        """
        source = text.__aiter__()
        if not self._unvoiced:
            return None, source
        head: list[str] = []
        candidates = list(self._unvoiced.values())
        async for chunk in source:
            head.append(chunk)
            so_far = _normalised("".join(head))
            candidates = [c for c in candidates if _normalised(c.answer).startswith(so_far)]
            if not candidates:
                break
        else:
            so_far = _normalised("".join(head))
            for candidate in candidates:
                if _normalised(candidate.answer) == so_far:
                    del self._unvoiced[candidate.id]
                    return candidate, _replay(head, None)
        return None, _replay(head, source)

    def _voice(self) -> Voice | None:
        """The TTS configuration, so a clip is only reused in the voice it was made in."""
        engine = self.session.tts
        if engine is None:
            return None
        return Voice(
            provider=engine.provider,
            model=engine.model,
            voice=f"{self._tts_voice}|{engine.label}",
            sample_rate=engine.sample_rate,
            num_channels=engine.num_channels,
        )


async def _replay(head: list[str], rest: AsyncIterator[str] | None) -> AsyncIterator[str]:
    for chunk in head:
        yield chunk
    if rest is not None:
        async for chunk in rest:
            yield chunk


def build_session(
    *,
    settings: PipelineSettings,
    stt: stt.STT,
    llm: llm.LLM,
    tts: tts.TTS,
    vad: vad.VAD,
    turn_detector: object,
    cache: ResponseCache | None,
    history: llm.ChatContext | None = None,
) -> tuple[AgentSession, MeridianAgent]:
    """The AgentSession and Agent for one conversation, from injected models (real or doubles);
    `history` is the conversation so far of a call this agent takes over."""
    session: AgentSession = AgentSession(
        stt=stt,
        llm=llm,
        tts=tts,
        vad=vad,
        turn_handling=settings.turn.options(turn_detector),
        aec_warmup_duration=settings.turn.aec_warmup,
        session_close_transcript_timeout=settings.close_transcript_timeout,
    )
    gate = turn_detector if isinstance(turn_detector, GateTurnDetector) else None
    if gate is not None:
        gate.bind(session)
    resume = ResumeWatch(settings.turn.resume_window)
    resume.attach(session)
    agent = MeridianAgent(
        instructions=settings.system_prompt,
        cache=cache,
        resume=resume,
        gate=gate,
        tts_voice=settings.tts_voice,
        history=history,
    )
    return session, agent
