"""Fixtures for the agent tests: the real local models, and a pipeline built from doubles."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from livekit.agents import AgentSession

from agent.pipeline import MeridianAgent, PipelineSettings, build_session
from agent.providers import Placements, Served
from agent.response_cache import ResponseCache
from agent.server import load_local_models
from agent.settings import CacheSettings
from agent.telemetry import TurnTelemetry
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks.stand_ins import FakeLLM, FakeSTT, FakeTTS, InstantSpeaker
from meridian.logs import configure_logging
from tests.agent.doubles import PacedMicrophone
from tests.agent.support import LIVEKIT_SECRET

WEATHER_REPLY = (
    "It is sunny in Paris today. The temperature is mild, around twenty degrees. "
    "Take a light jacket for the evening."
)


@pytest.fixture(scope="session", autouse=True)
def local_models() -> None:
    """The real VAD and end-of-turn weights, loaded once as the prewarm hook does."""
    load_local_models()


class LogLines(io.StringIO):
    """structlog's JSON output, captured; tests can await a named event."""

    def __init__(self) -> None:
        super().__init__()
        self._written = asyncio.Event()

    @property
    def stream(self) -> LogLines:
        return self

    def write(self, text: str) -> int:
        written = super().write(text)
        self._written.set()
        return written

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.getvalue().splitlines() if line]
        return [e for e in found if name is None or e.get("event") == name]

    async def wait_for(self, name: str) -> dict[str, Any]:
        """The first event with this name, waiting for it to be logged."""
        while not (found := self.events(name)):
            self._written.clear()
            await self._written.wait()
        return found[0]


@pytest.fixture
def logs() -> LogLines:
    captured = LogLines()
    configure_logging([LIVEKIT_SECRET], stream=captured.stream)
    return captured


@dataclass
class Pipeline:
    """A running session wired to doubles and to a paced microphone and instant speaker."""

    session: AgentSession
    agent: MeridianAgent
    stt: FakeSTT
    llm: FakeLLM
    tts: FakeTTS
    mic: PacedMicrophone
    speaker: InstantSpeaker
    telemetry: TurnTelemetry
    cache: ResponseCache


@pytest.fixture
def response_cache() -> ResponseCache:
    return ResponseCache.from_settings(CacheSettings())


async def launch_pipeline(
    cache: ResponseCache,
    *,
    transcripts: list[str],
    reply: str = WEATHER_REPLY,
) -> Pipeline:
    """Start a session from doubles, listening to a paced microphone."""
    stt = FakeSTT(transcripts, latency=0.1)
    llm = FakeLLM(reply, ttft=0.1, tokens_per_second=25)
    tts = FakeTTS(ttfb=0.05)
    turn = DEFAULT_TURN_SETTINGS
    session, agent = build_session(
        # nothing is pending at close in these tests: don't wait for a last transcript
        settings=PipelineSettings(close_transcript_timeout=0.05),
        stt=stt,
        llm=llm,
        tts=tts,
        vad=turn.build_vad(),
        turn_detector=turn.build_turn_detector(),
        cache=cache,
    )
    # Speech in the region, the LLM served from the fallback region's deployment
    placements = Placements()
    placements.add("stt", stt, Served("azure-ai", "speech", "westeurope"))
    placements.add("llm", llm, Served("azure-ai", "gpt-5.4-mini", "eastus"))
    placements.add("tts", tts, Served("azure-ai", "en-US-AvaMultilingualNeural", "westeurope"))
    telemetry = TurnTelemetry(
        region="eu-west",
        room="room-1",
        job_id="job-1",
        location="westeurope",
        placements=placements,
    )
    telemetry.attach(session, notes=lambda: agent.turn_note)
    mic, speaker = PacedMicrophone(), InstantSpeaker()
    session.input.audio = mic
    session.output.audio = speaker
    await session.start(agent=agent, record=False)
    return Pipeline(session, agent, stt, llm, tts, mic, speaker, telemetry, cache)


@pytest.fixture
async def start_pipeline(response_cache: ResponseCache) -> AsyncIterator[Callable[..., Any]]:
    """Start sessions from doubles; closes them at the end of the test."""
    pipelines: list[Pipeline] = []

    async def start(**kwargs: Any) -> Pipeline:
        pipeline = await launch_pipeline(response_cache, **kwargs)
        pipelines.append(pipeline)
        return pipeline

    yield start
    for pipeline in pipelines:
        await pipeline.session.aclose()
