"""`python -m meridian.local` (`make local`): the LiveKit server, a region's agent worker and its
dispatch on this machine, so a token from the local dispatch brings the local agent."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio

from benchmarks.live_call import TIMEOUT, Caller, Output, free_port, run_module
from meridian.contract import REGION_ATTRIBUTE
from meridian.smoke.media import AgentPresence
from tests.manifests import THREE_REGIONS

pytestmark = pytest.mark.asyncio(loop_scope="module")

READY = "is running on this machine"


@dataclass
class LocalRun:
    output: Output
    presence: AgentPresence
    health: dict
    exit_code: int
    dispatch_port: int


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def local_run(livekit_binary) -> AsyncIterator[LocalRun]:
    ports = {name: free_port() for name in ("livekit", "agent", "dispatch")}
    args = ["--manifest", str(THREE_REGIONS), "--region", "eu-west"]
    process, output = await run_module(
        ["meridian.local", *args, *(f"--{name}-port={port}" for name, port in ports.items())],
        {
            "PATH": "/usr/bin:/bin",
            "LIVEKIT_SERVER_BIN": str(livekit_binary),
            # the framework's load is this machine's CPU, which the rest of the suite keeps busy:
            # at the manifest's threshold the worker could report itself full
            "MERIDIAN_LOAD_THRESHOLD": "1",
        },
        "meridian.local",
    )
    try:
        await asyncio.wait_for(output.wait_for(READY), TIMEOUT)
        url = f"http://127.0.0.1:{ports['dispatch']}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/token", json={}) as answer:
                body = await answer.json()
            caller = Caller()
            try:
                await caller.join(body["server_url"], body["participant_token"])
                presence = await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)
            finally:
                await caller.close()
            async with http.get(f"{url}/healthz") as answer:
                health = await answer.json()
        process.send_signal(signal.SIGINT)
        exit_code = await asyncio.wait_for(process.wait(), TIMEOUT)
        await output.done
        yield LocalRun(output, presence, health, exit_code, ports["dispatch"])
    finally:
        if process.returncode is None:
            # SIGTERM, so it stops its parts (a SIGKILL would leave them running)
            process.terminate()
            await asyncio.wait_for(process.wait(), TIMEOUT)


async def test_a_token_from_the_local_dispatch_brings_the_local_agent(local_run: LocalRun) -> None:
    assert local_run.presence.attributes[REGION_ATTRIBUTE] == "eu-west"


async def test_the_local_dispatch_finds_its_worker_up(local_run: LocalRun) -> None:
    assert local_run.health["status"] == "ok"
    assert local_run.health["worker"]["agent_name"] == "support-agent-eu-west"


async def test_ctrl_c_stops_every_part_and_exits_0(local_run: LocalRun) -> None:
    assert local_run.exit_code == 0
    with pytest.raises(aiohttp.ClientConnectorError):
        async with aiohttp.ClientSession() as http:
            await http.get(f"http://127.0.0.1:{local_run.dispatch_port}/healthz")
