"""A caller whose agent no worker took gets it a few seconds later, through the real LiveKit
server: the region's only worker is full when the call begins (LiveKit drops the job), frees up,
and dispatch, told by LiveKit's webhook that the caller joined, dispatches the agent again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from benchmarks.live_call import TIMEOUT, Caller, Regions, free_ports
from meridian.contract import REGION_ATTRIBUTE
from meridian.local.server import LocalServer, local_config
from meridian.smoke.media import AgentPresence
from tests.livekit_server.support import SERVERS

pytestmark = pytest.mark.asyncio(loop_scope="module")

# what the server logs when no registered worker has room for the job
REFUSED = "failed to send job request"


@dataclass
class Redispatched:
    agent: AgentPresence
    logged: dict


async def _until_logged(server: LocalServer, line: str) -> None:
    # the server's log is a file: there is nothing to await but its next write
    while line not in server.log():
        await asyncio.sleep(0.1)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def redispatched(livekit_binary, tmp_path_factory) -> AsyncIterator[Redispatched]:
    load = Path(tmp_path_factory.mktemp("load")) / "load"
    load.write_text("1")  # past the worker's load threshold: it reports itself full
    regions = Regions(
        {"eu-west": "westeurope"}, local_config().with_ports(free_ports()), webhooks_to="eu-west"
    )
    regions.workers["eu-west"].env["TEST_LOAD_FILE"] = str(load)
    server = LocalServer(regions.config, tmp_path_factory.mktemp("server"), binary=livekit_binary)
    SERVERS.append(server)
    caller = Caller()
    try:
        await server.start()
        await regions.start()
        dispatch = regions.dispatches["eu-west"]
        await caller.join(*await dispatch.token())
        await asyncio.wait_for(_until_logged(server, REFUSED), TIMEOUT)
        load.write_text("0")
        agent = await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)
        assert dispatch.output is not None
        line = await asyncio.wait_for(
            dispatch.output.wait_for('"event": "agent_redispatched"'), TIMEOUT
        )
        yield Redispatched(agent, json.loads(line.string))
    finally:
        await caller.close()
        await regions.stop()
        await server.stop()


async def test_a_caller_whose_agent_no_worker_took_gets_it_once_a_worker_can(
    redispatched: Redispatched,
) -> None:
    assert redispatched.agent.attributes[REGION_ATTRIBUTE] == "eu-west"


async def test_dispatch_says_it_dispatched_the_agent_again_and_why(
    redispatched: Redispatched,
) -> None:
    assert redispatched.logged["agent_name"] == "support-agent-eu-west"
    assert redispatched.logged["attempt"] >= 1
    assert redispatched.logged["reason"] == "no worker took the room's agent dispatch"
