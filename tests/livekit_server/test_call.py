"""Real calls through the real LiveKit server: a caller on the livekit rtc SDK speaks the recorded
question at real time over WebRTC, and Meridian's real pipeline (local VAD, turn gate, FAQ cache;
stand-ins for the remote STT, LLM and TTS only) answers it in speech the caller hears."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from benchmarks.live_call import TIMEOUT, Caller, Worker, join_token
from meridian.contract import (
    REGION_ATTRIBUTE,
    REVISION_ATTRIBUTE,
    TURN_FLAG_FIELDS,
    TURN_GATE_FIELDS,
    TURN_SERVED_FIELDS,
    TURN_TIMING_FIELDS,
)
from meridian.dispatch.health import ProbeResult, check_worker
from meridian.local.server import LocalServer
from meridian.smoke.media import AgentPresence, ReplyTiming, load_clip
from meridian.worker_load import read_worker_load
from tests.agent.support import DATA, LIVEKIT_SECRET

pytestmark = pytest.mark.asyncio(loop_scope="module")

REVISION = "support-agent-eu-west--0000002"
QUESTION = DATA / "opening_hours_16k.wav"


@dataclass
class Call:
    """What the caller saw and heard, and what the worker reported while the call ran."""

    presence: AgentPresence
    reply: ReplyTiming
    status_during_call: dict[str, Any]
    probe_during_call: ProbeResult


@dataclass
class Calls:
    worker: Worker
    calls: list[Call] = field(default_factory=list)


async def _call(worker: Worker, server: LocalServer, room: str) -> Call:
    config = server.config
    token = join_token(config, room, worker.agent_name)
    media = Caller()
    try:
        await media.join(config.url, token)
        presence = await asyncio.wait_for(media.wait_for_agent(), TIMEOUT)
        reply = await asyncio.wait_for(media.ask(load_clip(QUESTION)), TIMEOUT)
        await asyncio.wait_for(media.until_agent_listens(), TIMEOUT)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{worker.health_url}/worker") as answer:
                status = await answer.json(content_type=None)
            probe = await check_worker(http, worker.health_url, worker.agent_name, 5.0)
    finally:
        await media.close()  # the caller hangs up
    return Call(presence, reply, status, probe)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def two_calls(livekit_server: LocalServer) -> AsyncIterator[Calls]:
    """One worker, two calls one after the other, each asking the same FAQ question."""
    worker = Worker("eu-west", livekit_server.config, CONTAINER_APP_REVISION=REVISION)
    calls = Calls(worker)
    try:
        await worker.start()
        assert worker.output is not None
        for n in range(2):
            calls.calls.append(await _call(worker, livekit_server, f"call-{n}"))
            # the job ends when the caller hangs up; the next call starts after that
            await asyncio.wait_for(
                worker.output.wait_for(rf'"room": "call-{n}".*"event": "session_end"'), TIMEOUT
            )
        yield calls
    finally:
        await worker.stop()


def _turns(calls: Calls) -> list[dict[str, Any]]:
    assert calls.worker.output is not None
    return calls.worker.output.events("turn")


async def test_the_agent_joins_with_its_region_and_revision(two_calls: Calls) -> None:
    attributes = two_calls.calls[0].presence.attributes
    assert attributes[REGION_ATTRIBUTE] == "eu-west"
    assert attributes[REVISION_ATTRIBUTE] == REVISION


async def test_the_caller_hears_the_spoken_reply_over_webrtc(two_calls: Calls) -> None:
    reply = two_calls.calls[0].reply
    # the question played in full at real time, and then speech arrived in the caller's track
    assert reply.question_ms >= 2000
    assert 0 <= reply.latency_ms < TIMEOUT * 1000


async def test_every_answered_turn_logs_a_turn_event_with_every_field(two_calls: Calls) -> None:
    turns = _turns(two_calls)
    assert [t["room"] for t in turns] == ["call-0", "call-1"]
    fields = (*TURN_TIMING_FIELDS, *TURN_FLAG_FIELDS, *TURN_GATE_FIELDS, *TURN_SERVED_FIELDS)
    for turn in turns:
        assert set(fields) <= set(turn), set(fields) - set(turn)
        assert turn["region"] == "eu-west"
        assert turn["e2e_latency"] > 0


async def test_the_faq_question_is_answered_from_the_cache_after_the_turn_gate_ends_it(
    two_calls: Calls,
) -> None:
    for turn in _turns(two_calls):
        assert turn["cache_hit"] is True
        assert turn["gate_verdict"] == "finished"


async def test_the_next_call_replays_the_first_calls_audio_without_tts(two_calls: Calls) -> None:
    assert two_calls.worker.output is not None
    outcomes = [e["outcome"] for e in two_calls.worker.output.events("faq_audio_cache")]
    assert outcomes == ["miss", "hit"]


async def test_the_worker_endpoint_counts_the_live_call_as_the_framework_writes_it(
    two_calls: Calls,
) -> None:
    status = two_calls.calls[0].status_during_call
    # MessageToJson(WorkerInfo): active_jobs is a protobuf float, so one job reads 1.0
    assert status["active_jobs"] == 1.0
    assert read_worker_load(status).active_jobs == 1


async def test_dispatch_probes_a_worker_with_a_live_call_as_up(two_calls: Calls) -> None:
    probe = two_calls.calls[0].probe_during_call
    assert probe.ok, probe.reason


async def test_the_worker_logs_carry_no_secret(two_calls: Calls) -> None:
    assert two_calls.worker.output is not None
    assert LIVEKIT_SECRET not in "\n".join(two_calls.worker.output.lines)
    assert two_calls.worker.env["LIVEKIT_API_SECRET"] not in "\n".join(
        two_calls.worker.output.lines
    )
