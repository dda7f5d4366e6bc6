"""A repeat FAQ question replays cached audio across calls on one replica: the real worker runs
two calls, each in its own job process as in production (one process serves one job), and the
second voices the answer from the first call's audio without calling TTS."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from livekit import api
from livekit.protocol import agent, models

from tests.agent.protocol_server import AgentProtocolServer
from tests.agent.support import LIVEKIT_KEY, LIVEKIT_SECRET, REPO, base_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

TAGGED_AGENT_NAME = "support-agent-eu-west"
TIMEOUT = 60


@dataclass(frozen=True)
class Call:
    """What one call's job process reported (tests/agent/worker_app.py, faq_conversation)."""

    pid: int
    tts_calls: int
    llm_calls: int
    audio_sha256: str
    audio_bytes: int


def _job(n: int) -> agent.Job:
    return agent.Job(
        id=f"AJ_faq_{n}",
        type=agent.JobType.JT_ROOM,
        room=models.Room(sid=f"RM_faq_{n}", name=f"faq-room-{n}"),
        agent_name=TAGGED_AGENT_NAME,
    )


def _room_token(room: str) -> str:
    return (
        api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET)
        .with_identity(f"agent-{room}")
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room=room, agent=True))
        .to_jwt()
    )


async def _report(path: Path) -> Call:
    # the call runs in another process; its report file is the only thing to watch
    while not path.exists():
        await asyncio.sleep(0.05)
    return Call(**json.loads(path.read_text()))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def two_calls(tmp_path_factory) -> tuple[Call, Call]:
    """Start the worker, give it two FAQ calls one after the other, then stop it."""
    server = AgentProtocolServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET)
    await server.start()
    reports = tmp_path_factory.mktemp("calls")
    env = {
        **os.environ,
        **base_env(LIVEKIT_URL=server.url, MERIDIAN_IDLE_PROCESSES="1"),
        "TEST_CONVERSATION": "faq",
        "TEST_REPORT_DIR": str(reports),
        "PYTHONUNBUFFERED": "1",
    }
    with open(reports / "worker.log", "wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.agent.worker_app",
            "start",
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    calls = []
    try:
        await asyncio.wait_for(server.registered(), TIMEOUT)
        for n in (1, 2):
            job = _job(n)
            answer = await asyncio.wait_for(server.offer_job(job), TIMEOUT)
            assert answer.available, f"call {n} was refused"
            await server.assign_job(job, room_token=_room_token(job.room.name))
            calls.append(await asyncio.wait_for(_report(reports / f"{job.id}.json"), TIMEOUT))
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.close()
    first, second = calls
    return first, second


async def test_each_call_runs_in_a_job_process_of_its_own(two_calls) -> None:
    first, second = two_calls
    assert first.pid != second.pid


async def test_the_first_call_synthesises_the_faq_answer(two_calls) -> None:
    first, _ = two_calls
    assert first.tts_calls > 0
    assert first.llm_calls == 0
    assert first.audio_bytes > 0


async def test_the_next_call_replays_the_first_calls_audio_without_tts(two_calls) -> None:
    first, second = two_calls
    assert second.tts_calls == 0
    assert second.llm_calls == 0
    assert second.audio_sha256 == first.audio_sha256
