"""`scripts/smoke_test.py` end to end against the real LiveKit server: it passes for a region
whose worker and dispatch run, and fails at a named step with a hint once the workers are gone.
Either way, the server's own RoomService shows no room and no dispatch left behind."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from livekit import api

from benchmarks.live_call import TIMEOUT, Dispatch, Worker
from meridian.local.server import LocalServer
from tests.agent.support import REPO
from tests.manifests import THREE_REGIONS

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class SmokeRun:
    exit_code: int
    report: dict[str, Any]
    stderr: str
    rooms_after: list[str]
    dispatches_after: list[str]


@dataclass
class Runs:
    passing: SmokeRun
    failing: SmokeRun
    worker: Worker
    dispatch: Dispatch


async def _smoke(server: LocalServer, dispatch: Dispatch) -> SmokeRun:
    config = server.config
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "scripts/smoke_test.py",
        "--region",
        "eu-west",
        "--manifest",
        str(THREE_REGIONS),
        "--dispatch-url",
        dispatch.url,
        "--agent-timeout",
        "8",
        "--json",
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "LIVEKIT_URL": config.url,
            "LIVEKIT_API_KEY": config.api_key,
            "LIVEKIT_API_SECRET": config.api_secret,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT * 2)
    report = json.loads(stdout)
    (region,) = report["regions"]
    room = region["room_name"]
    async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as lk:
        rooms = [r.name for r in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms]
        try:
            listed = await lk.agent_dispatch.list_dispatch(room)
            dispatches = [d.id for d in listed]
        except api.TwirpError as exc:
            # the server answers for live rooms only: a deleted room has no dispatch to list
            assert room not in rooms, exc
            dispatches = []
    assert process.returncode is not None
    return SmokeRun(process.returncode, region, stderr.decode(), rooms, dispatches)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def runs(livekit_server: LocalServer) -> AsyncIterator[Runs]:
    """One smoke run with the region's worker up, then one after it has stopped."""
    config = livekit_server.config
    worker = Worker("eu-west", config)
    table = [{"region": "eu-west", "location": "westeurope", "livekit_url": config.url}]
    dispatch = Dispatch("eu-west", config, worker_url=worker.health_url, table=table)
    try:
        await worker.start()
        await dispatch.start()
        passing = await _smoke(livekit_server, dispatch)
        worker.terminate()
        await worker.wait()
        failing = await _smoke(livekit_server, dispatch)
        yield Runs(passing, failing, worker, dispatch)
    finally:
        await dispatch.stop()
        await worker.stop()


async def test_the_smoke_test_passes_for_a_running_region(runs: Runs) -> None:
    passing = runs.passing
    assert passing.exit_code == 0, passing.report
    assert passing.report["ok"] is True
    assert {s["status"] for s in passing.report["steps"]} == {"passed"}
    assert passing.report["within_budget"] is True


async def test_the_run_dispatches_the_regions_tagged_agent_explicitly(runs: Runs) -> None:
    steps = {s["name"]: s for s in runs.passing.report["steps"]}
    assert steps["room"]["detail"].endswith("for support-agent-eu-west")
    assert "meridian.region=eu-west" in steps["agent"]["detail"]


async def test_a_passing_run_leaves_no_room_and_no_dispatch(runs: Runs) -> None:
    assert runs.passing.report["cleanup"] == {"dispatch_deleted": True, "room_deleted": True}
    assert runs.passing.report["room_name"] not in runs.passing.rooms_after
    assert runs.passing.dispatches_after == []


async def test_without_workers_it_exits_1_naming_the_failed_step_with_a_hint(runs: Runs) -> None:
    failing = runs.failing
    assert failing.exit_code == 1, failing.report
    # the dispatch step fails once the region's dispatch has marked its worker down; until then
    # the agent step does, when no agent joins
    assert failing.report["failed_step"] in {"dispatch", "agent"}
    failed = next(s for s in failing.report["steps"] if s["status"] == "failed")
    assert failed["hint"] == failing.report["hint"] != ""


async def test_a_failed_run_leaves_no_room_and_no_dispatch(runs: Runs) -> None:
    assert runs.failing.report["room_name"] not in runs.failing.rooms_after
    assert runs.failing.dispatches_after == []
