"""The response cache: FAQ answers for matching turns, and their synthesised audio."""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from livekit import rtc

from agent.audio_cache import AudioCache, AudioKey, Voice
from agent.faq import Faq, FaqEntry, FaqMatch
from agent.settings import CacheSettings


class ResponseCache:
    """Answers FAQ turns without the LLM and repeat answers without the TTS; logs each lookup."""

    def __init__(self, faq: Faq, audio: AudioCache) -> None:
        self.faq = faq
        self.audio = audio
        self._log = structlog.get_logger("agent.cache")

    @classmethod
    def from_settings(cls, settings: CacheSettings) -> ResponseCache:
        """Load the FAQ file and open the audio store within the byte budget (the worker's
        shared directory, or a private one when none is set)."""
        return cls(
            Faq.load(settings.faq_path, settings.threshold),
            AudioCache(settings.audio_budget_bytes, settings.audio_dir),
        )

    def lookup(self, user_text: str) -> FaqMatch | None:
        """The FAQ entry answering this turn, or None; logs the hit or miss."""
        started = time.perf_counter()
        found = self.faq.match(user_text)
        took_us = round((time.perf_counter() - started) * 1e6, 1)
        if found is None:
            self._log.info("faq_cache", outcome="miss", lookup_us=took_us)
        else:
            self._log.info(
                "faq_cache",
                outcome="hit",
                faq_id=found.entry.id,
                score=round(found.score, 1),
                lookup_us=took_us,
            )
        return found

    def cached_audio(self, entry: FaqEntry, voice: Voice) -> tuple[rtc.AudioFrame, ...] | None:
        """The answer as synthesised in this voice by any call on this worker, if it is still
        cached; logs the outcome."""
        started = time.perf_counter()
        frames = self.audio.get(AudioKey(entry.answer, voice))
        self._log.info(
            "faq_audio_cache",
            outcome="miss" if frames is None else "hit",
            faq_id=entry.id,
            read_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return frames

    def store_audio(self, entry: FaqEntry, voice: Voice, frames: Sequence[rtc.AudioFrame]) -> None:
        """Keep a complete synthesis of the answer for the next hit on this worker."""
        self.audio.put(AudioKey(entry.answer, voice), frames)
