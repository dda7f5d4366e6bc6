"""Explicit dispatch through the real LiveKit server: two regions' workers register under their
tagged names, and a token from a region's dispatch service brings that region's agent only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from livekit import api

from benchmarks.live_call import TIMEOUT, Dispatch, Worker
from meridian.contract import REGION_ATTRIBUTE, Env
from meridian.local.server import LocalServer
from meridian.smoke.media import AgentPresence, RtcMediaSession

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGIONS = {"eu-west": "westeurope", "us-east": "eastus"}


@dataclass
class Region:
    worker: Worker
    dispatch: Dispatch


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def regions(livekit_server: LocalServer) -> AsyncIterator[dict[str, Region]]:
    """Both regions on the one local server: a worker and a dispatch service each, every
    dispatch with the whole region table (peers reach each other on loopback)."""
    config = livekit_server.config
    workers = {
        key: Worker(key, config, MERIDIAN_LOCATION=location) for key, location in REGIONS.items()
    }
    dispatches: dict[str, Dispatch] = {}
    try:
        await asyncio.gather(*(w.start() for w in workers.values()))
        table: list[dict[str, str]] = []
        for key, location in REGIONS.items():
            dispatch = Dispatch(key, config, worker_url=workers[key].health_url, table=table)
            dispatches[key] = dispatch
            entry = {"region": key, "location": location, "livekit_url": config.url}
            table.append({**entry, "dispatch_url": dispatch.url})
        for dispatch in dispatches.values():
            dispatch.env[Env.REGIONS] = json.dumps(table)
        await asyncio.gather(*(d.start() for d in dispatches.values()))
        await asyncio.gather(*(d.until_every_region_is_up() for d in dispatches.values()))
        yield {key: Region(workers[key], dispatches[key]) for key in REGIONS}
    finally:
        for part in [*dispatches.values(), *workers.values()]:
            await part.stop()


async def _call(region: Region) -> tuple[str, AgentPresence]:
    """Join with a token from the region's dispatch; the room and the agent that arrived."""
    url, token = await region.dispatch.token()
    room = api.TokenVerifier(*_keys(region)).verify(token).video.room
    media = RtcMediaSession()
    try:
        await media.join(url, token)
        presence = await asyncio.wait_for(media.wait_for_agent(), TIMEOUT)
    finally:
        await media.close()
    return room, presence


def _keys(region: Region) -> tuple[str, str]:
    return region.dispatch.env[Env.LIVEKIT_API_KEY], region.dispatch.env[Env.LIVEKIT_API_SECRET]


async def test_each_regions_worker_registers_under_its_tagged_name(
    regions: dict[str, Region],
) -> None:
    for key, region in regions.items():
        assert region.worker.output is not None
        registered = await region.worker.output.wait_for(
            r'"registered worker".*"agent_name": "([^"]+)"'
        )
        assert registered.group(1) == f"support-agent-{key}"


@pytest.mark.parametrize("key", list(REGIONS))
async def test_a_dispatch_token_brings_that_regions_agent_and_never_the_others(
    regions: dict[str, Region], key: str
) -> None:
    room, presence = await _call(regions[key])
    assert presence.region == key
    assert presence.attributes["lk.agent.name"] == f"support-agent-{key}"
    assert room in regions[key].worker.accepted_rooms()
    for other, region in regions.items():
        if other != key:
            assert room not in region.worker.accepted_rooms()


async def test_the_caller_sees_the_agents_region_attribute(regions: dict[str, Region]) -> None:
    _, presence = await _call(regions["us-east"])
    assert presence.attributes[REGION_ATTRIBUTE] == "us-east"
