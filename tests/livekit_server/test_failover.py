"""Failover through the real LiveKit server: a call whose agent's worker is killed gets the agent
of the next-nearest healthy region in the same room (LiveKit's signed webhook to dispatch), which
says it is back; a normal hang-up brings no one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from benchmarks.live_call import TIMEOUT, Caller, Regions, free_ports, kill_group
from meridian.contract import REGION_ATTRIBUTE
from meridian.local.server import LocalServer, local_config
from meridian.smoke.media import AgentPresence
from tests.livekit_server.support import SERVERS

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGIONS = {"eu-west": "westeurope", "us-east": "eastus", "ap-southeast": "southeastasia"}
# The server notices a killed agent when its connection times out (about 20 s on v1.13.5).
DETECTION_TIMEOUT = 90


@dataclass
class Failover:
    first: AgentPresence
    second: AgentPresence
    # the caller never published a word: any speech from the new agent is its own opening line
    spoke_unprompted: bool
    dispatched: dict
    skipped_after_hang_up: dict


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def failover(livekit_binary, tmp_path_factory) -> AsyncIterator[Failover]:
    regions = Regions(REGIONS, local_config().with_ports(free_ports()), webhooks_to="eu-west")
    server = LocalServer(regions.config, tmp_path_factory.mktemp("server"), binary=livekit_binary)
    SERVERS.append(server)
    dispatches, workers = regions.dispatches, regions.workers
    caller = Caller()
    try:
        await server.start()
        await regions.start()
        url, token = await dispatches["eu-west"].token()
        await caller.join(url, token)
        first = await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)
        caller.spoke.clear()
        # SIGKILL the worker and its job processes: the region's worker dies without a word
        assert workers["eu-west"].process is not None
        kill_group(workers["eu-west"].process)
        second = await asyncio.wait_for(caller.next_agent(first.identity), DETECTION_TIMEOUT)
        eu = dispatches["eu-west"].output
        assert eu is not None
        dispatched = await asyncio.wait_for(eu.wait_for('"event": "failover_dispatched"'), TIMEOUT)
        # the new agent speaks first: its state turns "speaking" without the caller saying a word
        await asyncio.wait_for(caller.spoke.wait(), TIMEOUT)
        await asyncio.wait_for(caller.until_agent_listens(), TIMEOUT)
        mark = len(eu.lines)
        await caller.close()  # the caller hangs up normally
        skipped = await asyncio.wait_for(
            eu.wait_for('"event": "failover_skipped"', after=mark), TIMEOUT
        )
        yield Failover(
            first,
            second,
            caller.spoke.is_set(),
            json.loads(dispatched.string),
            json.loads(skipped.string),
        )
    finally:
        await caller.close()
        await regions.stop()
        await server.stop()


async def test_the_call_starts_with_the_agent_of_the_region_it_was_sent_to(
    failover: Failover,
) -> None:
    assert failover.first.attributes[REGION_ATTRIBUTE] == "eu-west"


async def test_the_next_nearest_healthy_region_takes_over_the_same_room(failover: Failover) -> None:
    # from westeurope, eastus is nearer than southeastasia
    assert failover.second.attributes[REGION_ATTRIBUTE] == "us-east"
    assert failover.dispatched["lost_region"] == "eu-west"
    assert failover.dispatched["region"] == "us-east"
    assert failover.dispatched["attempt"] == 1


async def test_the_failover_is_for_an_agent_that_vanished_not_one_that_left(
    failover: Failover,
) -> None:
    assert failover.dispatched["disconnect"] != "CLIENT_INITIATED"


async def test_the_new_agent_tells_the_caller_it_is_back(failover: Failover) -> None:
    assert failover.spoke_unprompted


async def test_a_normal_hang_up_brings_no_new_agent(failover: Failover) -> None:
    assert failover.skipped_after_hang_up["region"] == "us-east"
    assert failover.skipped_after_hang_up["reason"] in {
        "the agent ended its session itself",
        "no caller left in the room",
    }
