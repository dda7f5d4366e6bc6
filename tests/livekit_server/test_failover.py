"""Failover through the real LiveKit server: a call whose agent's worker is killed gets the agent
of the next-nearest healthy region in the same room, which says it is back. The region's own
dispatch starts it when its probe finds the worker gone, seconds before LiveKit's webhook would;
a failover agent whose predecessor still answers leaves without a word; a normal hang-up brings
no one."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol.models import DisconnectReason, ParticipantInfo, Room
from livekit.protocol.webhook import WebhookEvent

from agent.prompt import BACK_AFTER_FAILOVER
from benchmarks.live_call import TIMEOUT, Caller, Regions, free_ports, kill_group
from benchmarks.worker_app import DEFAULT_TRANSCRIPT
from meridian.contract import CONVERSATION_ATTRIBUTE, REGION_ATTRIBUTE, WEBHOOK_PATH
from meridian.conversation import CarriedMessage, decode
from meridian.dispatch.failover import Failover as FailoverPlan
from meridian.local.server import LocalServer, local_config
from meridian.smoke.media import AgentPresence, load_clip
from tests.agent.support import DATA
from tests.livekit_server.support import SERVERS

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGIONS = {"eu-west": "westeurope", "us-east": "eastus", "ap-southeast": "southeastasia"}
# dispatch's probe finds a killed worker within seconds; LiveKit notices the agent only when its
# connection times out (about 20 s on v1.13.5)
DETECTION_TIMEOUT = 90


@dataclass
class Failover:
    first: AgentPresence
    second: AgentPresence
    # the caller never published a word: any speech from the new agent is its own opening line
    spoke_unprompted: bool
    dispatched: dict
    skipped_after_hang_up: dict
    declined: dict
    # whether the caller heard anything while the needless failover agent was in the room
    spoke_while_declining: bool
    dispatches_after_declining: list[str]
    declined_dispatch: str
    # the new agent's conversation, as it publishes it once it has said it is back
    carried_on: tuple[CarriedMessage, ...]
    # the answers to LiveKit's webhook for the lost agent, posted twice after the failover
    replayed: list[dict]


async def _replayed_loss(regions: Regions, room: str, agent: str) -> list[dict]:
    """LiveKit's participant_left for `agent`, signed as LiveKit signs it, posted to eu-west's
    dispatch twice (LiveKit retries, and anyone holding one may replay it); both answers."""
    config = regions.config
    who = ParticipantInfo(
        identity=agent,
        kind=ParticipantInfo.Kind.AGENT,
        disconnect_reason=DisconnectReason.CONNECTION_TIMEOUT,
        attributes={REGION_ATTRIBUTE: "eu-west"},
    )
    body = MessageToJson(
        WebhookEvent(event="participant_left", room=Room(name=room), participant=who)
    )
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken(config.api_key, config.api_secret).with_sha256(digest).to_jwt()
    answers = []
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            url = regions.dispatches["eu-west"].url + WEBHOOK_PATH
            async with http.post(url, data=body, headers={"Authorization": token}) as answer:
                answers.append({"status": answer.status, **await answer.json()})
    return answers


async def _needless_failover(regions: Regions, caller: Caller, first: AgentPresence) -> dict:
    """Dispatch us-east's agent into a call whose eu-west agent is alive, as a wrong probe would;
    the log line of the newcomer declining, and the room's dispatches afterwards."""
    config = regions.config
    plan = FailoverPlan(caller.room_name, "us-east", 1, ("eu-west",), first.identity)
    async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
        sent = await lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(
                agent_name="support-agent-us-east", room=plan.room, metadata=plan.metadata()
            )
        )
        worker = regions.workers["us-east"].output
        assert worker is not None
        line = await asyncio.wait_for(worker.wait_for('"event": "failover_declined"'), TIMEOUT)
        left = await lk.agent_dispatch.list_dispatch(plan.room)
    return {
        "line": json.loads(line.string),
        "sent": sent.id,
        "left": [d.id for d in left],
    }


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
        # one question and its answer before the region is lost: the conversation to carry on
        await asyncio.wait_for(caller.ask(load_clip(DATA / "weather_paris_16k.wav")), TIMEOUT)
        await asyncio.wait_for(caller.until_agent_listens(), TIMEOUT)
        caller.spoke.clear()
        needless = await _needless_failover(regions, caller, first)
        spoke_while_declining = caller.spoke.is_set()
        # SIGKILL the worker and its job processes: the region's worker dies without a word
        assert workers["eu-west"].process is not None
        kill_group(workers["eu-west"].process)
        second = await asyncio.wait_for(caller.next_agent(first.identity), DETECTION_TIMEOUT)
        eu = dispatches["eu-west"].output
        assert eu is not None
        dispatched = await asyncio.wait_for(eu.wait_for('"event": "failover_dispatched"'), TIMEOUT)
        replayed = await _replayed_loss(regions, caller.room_name, first.identity)
        # the new agent speaks first: its state turns "speaking" without the caller saying a word
        await asyncio.wait_for(caller.spoke.wait(), TIMEOUT)
        carried_on = await asyncio.wait_for(
            caller.until_attribute(second.identity, CONVERSATION_ATTRIBUTE, BACK_AFTER_FAILOVER),
            TIMEOUT,
        )
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
            needless["line"],
            spoke_while_declining,
            needless["left"],
            needless["sent"],
            decode(carried_on),
            replayed,
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


async def test_the_regions_own_dispatch_fails_the_call_over_when_its_probe_finds_the_worker_gone(
    failover: Failover,
) -> None:
    assert failover.dispatched["disconnect"].startswith("worker probe: worker unreachable")


async def test_a_failover_agent_whose_predecessor_still_answers_leaves_without_a_word(
    failover: Failover,
) -> None:
    assert failover.declined["lost_agent"] == failover.first.identity
    assert not failover.spoke_while_declining


async def test_a_declined_failover_withdraws_its_dispatch(failover: Failover) -> None:
    assert failover.declined["withdraw_failed"] is None
    assert failover.declined_dispatch not in failover.dispatches_after_declining


async def test_the_new_agent_tells_the_caller_it_is_back(failover: Failover) -> None:
    assert failover.spoke_unprompted


async def test_the_new_agent_carries_on_from_the_conversation_so_far(failover: Failover) -> None:
    user, answer, back = failover.carried_on[-3:]
    assert (user.role, user.text) == ("user", DEFAULT_TRANSCRIPT)
    assert answer.role == "assistant" and answer.text
    assert back == CarriedMessage("assistant", BACK_AFTER_FAILOVER)


async def test_the_webhook_for_a_loss_already_answered_brings_no_second_agent(
    failover: Failover,
) -> None:
    assert [(a["status"], a["failover"]) for a in failover.replayed] == [(200, None), (200, None)]
    assert all("already been replaced" in a["reason"] for a in failover.replayed)


async def test_a_normal_hang_up_brings_no_new_agent(failover: Failover) -> None:
    assert failover.skipped_after_hang_up["region"] == "us-east"
    assert failover.skipped_after_hang_up["reason"] in {
        "the agent ended its session itself",
        "no caller left in the room",
    }


@dataclass
class Refused:
    taken_by: AgentPresence
    refusals: list[dict]
    dispatches: list[str]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def refused(livekit_binary, tmp_path_factory) -> AsyncIterator[Refused]:
    """eu-west's worker killed mid-call while us-east, the nearest, has no worker registered with
    LiveKit (its dispatch entry still routable: eu-west's dispatch has no probe of it)."""
    regions = Regions(REGIONS, local_config().with_ports(free_ports()), webhooks_to="eu-west")
    server = LocalServer(regions.config, tmp_path_factory.mktemp("server"), binary=livekit_binary)
    SERVERS.append(server)
    eu, workers = regions.dispatches["eu-west"], regions.workers
    caller = Caller()
    try:
        await server.start()
        await asyncio.gather(workers["eu-west"].start(), workers["ap-southeast"].start())
        await eu.start()
        url, token = await eu.token()
        await caller.join(url, token)
        first = await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)
        assert workers["eu-west"].process is not None
        kill_group(workers["eu-west"].process)
        taken_by = await asyncio.wait_for(caller.next_agent(first.identity), DETECTION_TIMEOUT)
        assert eu.output is not None
        await asyncio.wait_for(eu.output.wait_for('"event": "failover_dispatched"'), TIMEOUT)
        config = regions.config
        async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
            left = await lk.agent_dispatch.list_dispatch(caller.room_name)
        yield Refused(taken_by, eu.output.events("failover_refused"), [d.agent_name for d in left])
    finally:
        await caller.close()
        await regions.stop()
        await server.stop()


async def test_a_region_that_refuses_the_job_is_passed_over_for_the_next_nearest(
    refused: Refused,
) -> None:
    assert refused.taken_by.attributes[REGION_ATTRIBUTE] == "ap-southeast"
    assert [(r["region"], r["refusals"]) for r in refused.refusals] == [
        ("us-east", 1),
        ("us-east", 2),
    ]


async def test_a_refused_failover_dispatch_is_withdrawn(refused: Refused) -> None:
    assert "support-agent-us-east" not in refused.dispatches
    assert "support-agent-ap-southeast" in refused.dispatches
