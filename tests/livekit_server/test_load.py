"""Load through the real LiveKit server: a worker whose load is past `load_threshold` reports
itself full, and the server sends the region's calls to the worker that has room."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from benchmarks.live_call import TIMEOUT, Caller, Worker, join_token
from meridian.local.server import LocalServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOAD_THRESHOLD = 0.75
CALLS = 6  # were the busy worker offered jobs, it would take some of them (1 in 64 it takes none)


@dataclass
class Loaded:
    busy: Worker
    idle: Worker
    agents: list[str]


async def _until_load(worker: Worker, load: float) -> None:
    async with asyncio.timeout(TIMEOUT):
        while (await worker.status()).get("worker_load", 0.0) < load:
            await asyncio.sleep(0.1)  # the worker reads its load every 0.5 s


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def loaded(livekit_server: LocalServer, tmp_path_factory) -> AsyncIterator[Loaded]:
    config = livekit_server.config
    load_file = Path(tmp_path_factory.mktemp("load")) / "busy"
    load_file.write_text("0.9")
    threshold = {"MERIDIAN_LOAD_THRESHOLD": str(LOAD_THRESHOLD)}
    busy = Worker("eu-west", config, TEST_LOAD_FILE=str(load_file), **threshold)
    idle = Worker("eu-west", config, **threshold)
    try:
        await asyncio.gather(busy.start(), idle.start())
        await _until_load(busy, 0.9)
        agents = []
        for n in range(CALLS):
            caller = Caller()
            try:
                await caller.join(config.url, join_token(config, f"load-{n}", idle.agent_name))
                agents.append((await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)).identity)
            finally:
                await caller.close()
        yield Loaded(busy, idle, agents)
    finally:
        await busy.stop()
        await idle.stop()


async def test_the_busy_worker_reports_its_load_past_the_threshold(loaded: Loaded) -> None:
    status = await loaded.busy.status()
    assert status["worker_load"] > LOAD_THRESHOLD


async def test_every_call_is_answered(loaded: Loaded) -> None:
    assert len(loaded.agents) == CALLS


async def test_the_worker_past_its_threshold_is_sent_no_job(loaded: Loaded) -> None:
    assert loaded.busy.accepted_rooms() == []


async def test_the_worker_with_room_takes_every_call(loaded: Loaded) -> None:
    assert loaded.idle.accepted_rooms() == [f"load-{n}" for n in range(CALLS)]
