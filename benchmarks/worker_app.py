"""`python -m benchmarks.worker_app start`: the real worker of agent.server and Meridian's real
pipeline (local VAD, turn gate, FAQ cache), with stand-ins for the remote STT, LLM and TTS only.

TEST_TRANSCRIPT is what the stand-in STT hears in every utterance (TEST_TRANSCRIPT_FILE, read
when each call starts, overrides it); TEST_REPLY is the LLM's answer
to anything the FAQ does not cover; TEST_TTS_SECONDS_PER_CHAR sets how long its speech lasts.

The worker's load is the number in TEST_LOAD_FILE (0 without one), not the framework's default,
the whole machine's CPU: on a 2-core test machine that CPU is the tests' own, and a busy moment
would mark every worker full.
"""

from __future__ import annotations

import os
from pathlib import Path

from livekit.agents import cli

from agent.providers import Models
from agent.server import build_server
from agent.settings import AgentSettings, load_settings
from benchmarks.stand_ins import FakeLLM, FakeSTT, FakeTTS
from meridian.logs import configure_logging

DEFAULT_TRANSCRIPT = "What are your opening hours?"


def stand_in_models(_settings: AgentSettings) -> Models:
    """The remote models of one call: the STT hears TEST_TRANSCRIPT in each utterance."""
    transcript = os.environ.get("TEST_TRANSCRIPT", DEFAULT_TRANSCRIPT)
    if path := os.environ.get("TEST_TRANSCRIPT_FILE"):
        transcript = Path(path).read_text()
    return Models(
        stt=FakeSTT([transcript] * 50, latency=0.05),
        llm=FakeLLM(os.environ.get("TEST_REPLY", "Let me check that for you."), ttft=0.05),
        tts=FakeTTS(
            ttfb=0.05, seconds_per_char=float(os.environ.get("TEST_TTS_SECONDS_PER_CHAR", "0.01"))
        ),
    )


def load_from_file() -> float:
    """The load the test set for this worker (it reads the file on every load report)."""
    path = os.environ.get("TEST_LOAD_FILE")
    if not path or not Path(path).exists():
        return 0.0
    return float(Path(path).read_text() or 0)


if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings.secrets())
    server = build_server(settings, remote_models=stand_in_models)
    server.load_fnc = load_from_file
    cli.run_app(server)
