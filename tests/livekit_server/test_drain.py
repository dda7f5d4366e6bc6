"""Drain through the real LiveKit server: SIGTERM to a worker in the middle of a reply. The reply
finishes, the worker takes no new job, the next caller gets a second worker of the same region,
and the process exits 0 within drain_seconds once its call ends; no call is dropped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from benchmarks.live_call import TIMEOUT, Caller, Worker, join_token
from meridian.local.server import LocalServer
from meridian.smoke.media import ReplyTiming, load_clip
from tests.agent.support import DATA

pytestmark = pytest.mark.asyncio(loop_scope="module")

DRAIN_SECONDS = 30
QUESTION = DATA / "weather_paris_16k.wav"
# Not an FAQ: the stand-in LLM answers, and the stand-in TTS speaks it for about 6 s.
LONG_REPLY = (
    "Paris is mild today, with light cloud in the morning and sunshine from noon, and a gentle"
    " breeze from the west that keeps it cool until the evening."
)
SLOW_SPEECH = {
    "TEST_TRANSCRIPT": "What is the weather like in Paris today?",
    "TEST_REPLY": LONG_REPLY,
    "TEST_TTS_SECONDS_PER_CHAR": "0.04",
    "MERIDIAN_DRAIN_SECONDS": str(DRAIN_SECONDS),
}


@dataclass
class Drain:
    draining: Worker
    other: Worker
    first_reply: ReplyTiming
    state_after_sigterm: str
    second_reply: ReplyTiming
    exit_code: int
    exit_after_s: float
    turns: list[dict[str, Any]]


async def _join(server: LocalServer, room: str, worker: Worker) -> Caller:
    caller = Caller()
    await caller.join(server.config.url, join_token(server.config, room, worker.agent_name))
    await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)
    return caller


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def drain(livekit_server: LocalServer) -> AsyncIterator[Drain]:
    config = livekit_server.config
    draining = await Worker("eu-west", config, **SLOW_SPEECH).start()
    other = Worker("eu-west", config, **SLOW_SPEECH)
    first = second = None
    try:
        # the first call starts while `draining` is the region's only worker, so it is the one
        first = await _join(livekit_server, "call-before-sigterm", draining)
        await other.start()
        first_reply = await asyncio.wait_for(first.ask(load_clip(QUESTION)), TIMEOUT)
        draining.terminate()
        sigterm_at = time.monotonic()
        assert draining.output is not None
        await asyncio.wait_for(draining.output.wait_for('"draining worker"'), TIMEOUT)
        agent = first._agent()
        state_after_sigterm = agent.attributes.get("lk.agent.state", "") if agent else ""
        # a new caller while the first reply still plays
        second = await _join(livekit_server, "call-after-sigterm", other)
        second_reply = await asyncio.wait_for(second.ask(load_clip(QUESTION)), TIMEOUT)
        await asyncio.wait_for(first.until_agent_listens(), TIMEOUT)
        await first.close()  # the first caller hangs up after the whole answer
        exit_code = await draining.wait(DRAIN_SECONDS)
        exit_after_s = time.monotonic() - sigterm_at
        assert other.output is not None
        # the worker logs the turn once the reply is over; the caller may see that first
        await asyncio.wait_for(
            other.output.wait_for(r'"room": "call-after-sigterm".*"event": "turn"'), TIMEOUT
        )
        turns = draining.output.events("turn") + other.output.events("turn")
        yield Drain(
            draining,
            other,
            first_reply,
            state_after_sigterm,
            second_reply,
            exit_code,
            exit_after_s,
            turns,
        )
    finally:
        for caller in (first, second):
            if caller is not None:
                await caller.close()
        await draining.stop()
        await other.stop()


async def test_sigterm_arrives_while_the_reply_is_playing(drain: Drain) -> None:
    # SIGTERM goes the moment the caller hears the reply begin; the agent has not finished it
    # (its state attribute may still lag at "thinking", never "listening")
    assert drain.state_after_sigterm in {"thinking", "speaking"}


async def test_the_reply_in_progress_finishes_uninterrupted(drain: Drain) -> None:
    (turn,) = [t for t in drain.turns if t["room"] == "call-before-sigterm"]
    assert turn["interrupted"] is False


async def test_the_draining_worker_takes_no_new_job(drain: Drain) -> None:
    assert drain.draining.accepted_rooms() == ["call-before-sigterm"]


async def test_the_next_caller_gets_another_worker_of_the_region_and_an_answer(
    drain: Drain,
) -> None:
    assert drain.other.served_rooms() == ["call-after-sigterm"]
    assert [t["room"] for t in drain.turns if t["room"] == "call-after-sigterm"]
    assert drain.second_reply.latency_ms >= 0


async def test_the_drained_worker_exits_0_within_drain_seconds(drain: Drain) -> None:
    assert drain.exit_code == 0
    assert drain.exit_after_s < DRAIN_SECONDS
