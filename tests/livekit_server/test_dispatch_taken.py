"""Dispatch knows a worker took a failover or re-dispatch when LiveKit lists its job or when its
agent has joined the room, through the real LiveKit server: the open-source server lists the
first job it sends a newly registered worker seconds late, and a dispatch taken for refused
would be withdrawn with its agent already in the room."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from livekit import api

from benchmarks.live_call import Caller, Worker, join_token
from meridian.contract import AGENT_NAME_ATTRIBUTE
from meridian.dispatch.failover import _dispatch_taken

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOM = "first-job"


@dataclass
class Taken:
    taken: str | None
    dispatch_id: str
    listed: list[str]
    agents: list[str]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def first_job(livekit_server) -> AsyncIterator[Taken]:
    config = livekit_server.config
    worker = Worker("us-east", config, MERIDIAN_LOCATION="eastus")
    caller = Caller()
    try:
        await worker.start()
        # a caller in the room, whose token dispatches no agent: the dispatch below is the first
        # job the new worker is sent
        await caller.join(config.url, join_token(config, ROOM, "support-agent-nobody"))
        async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
            dispatch, taken = await _dispatch_taken(lk, worker.agent_name, ROOM, "")
            dispatches = await lk.agent_dispatch.list_dispatch(ROOM)
            listed = [d.id for d in dispatches if d.agent_name == worker.agent_name]
            people = await lk.room.list_participants(api.ListParticipantsRequest(room=ROOM))
        agents = [p.attributes.get(AGENT_NAME_ATTRIBUTE, "") for p in people.participants]
        yield Taken(taken, dispatch.id, listed, [a for a in agents if a])
    finally:
        await caller.close()
        await worker.stop()


async def test_the_first_job_of_a_new_worker_counts_as_taken(first_job: Taken) -> None:
    assert first_job.taken is not None


async def test_a_taken_dispatch_is_not_withdrawn(first_job: Taken) -> None:
    assert first_job.listed == [first_job.dispatch_id]


async def test_one_agent_of_that_name_is_in_the_room(first_job: Taken) -> None:
    assert first_job.agents == ["support-agent-us-east"]
