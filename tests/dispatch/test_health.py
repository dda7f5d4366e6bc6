"""Health: hysteresis on the board, and real probes of a worker and a peer over loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
from aiohttp import web
from google.protobuf.json_format import MessageToJson
from livekit.protocol.agent_worker import WorkerInfo

from meridian.dispatch.health import HealthBoard, Prober, ProbeResult, check_peer, check_worker
from tests.dispatch.support import board_for, peer_app, start_stub, worker_app

OK = ProbeResult(True, "ok")
FAIL = ProbeResult(False, "boom")


def probed_board(first: ProbeResult, *, down_after: int, up_after: int) -> HealthBoard:
    """A one-region board after its first probe result."""
    board = HealthBoard(["eu-west"], down_after=down_after, up_after=up_after)
    board.record("eu-west", first, 0.0)
    return board


def test_region_stays_up_until_k_consecutive_failures():
    board = probed_board(OK, down_after=3, up_after=2)
    board.record("eu-west", FAIL, 1.0)
    board.record("eu-west", FAIL, 2.0)
    assert board.is_up("eu-west")
    board.record("eu-west", FAIL, 3.0)
    assert not board.is_up("eu-west")


def test_a_success_resets_the_failure_count():
    board = probed_board(OK, down_after=3, up_after=2)
    for result in (FAIL, FAIL, OK, FAIL, FAIL):
        board.record("eu-west", result, 1.0)
    assert board.is_up("eu-west")


def test_region_comes_back_only_after_m_consecutive_successes():
    board = probed_board(FAIL, down_after=1, up_after=3)
    board.record("eu-west", OK, 2.0)
    board.record("eu-west", OK, 3.0)
    assert not board.is_up("eu-west")
    board.record("eu-west", OK, 4.0)
    assert board.is_up("eu-west")


def test_a_failure_while_recovering_restarts_the_success_count():
    board = probed_board(FAIL, down_after=1, up_after=2)
    for result in (OK, FAIL, OK):
        board.record("eu-west", result, 1.0)
    assert not board.is_up("eu-west")


def test_board_keeps_last_check_time_and_reason():
    board = probed_board(OK, down_after=1, up_after=1)
    board.record("eu-west", FAIL, 42.0)
    health = board.get("eu-west")
    assert (health.state, health.last_check, health.reason) == ("down", 42.0, "boom")


def test_a_region_not_probed_yet_is_not_routable():
    board = HealthBoard(["eu-west"], down_after=3, up_after=2)
    assert not board.is_up("eu-west")
    assert board.get("eu-west").reason == "not probed yet"


def test_the_first_probe_failure_takes_a_region_down_at_once():
    board = HealthBoard(["eu-west"], down_after=3, up_after=2)
    board.record("eu-west", FAIL, 1.0)
    assert not board.is_up("eu-west")
    assert board.get("eu-west").reason == "boom"


def test_the_first_probe_success_brings_a_region_up_at_once():
    board = HealthBoard(["eu-west"], down_after=3, up_after=2)
    board.record("eu-west", OK, 1.0)
    assert board.is_up("eu-west")


def test_a_region_with_nothing_to_probe_is_routable_from_the_start():
    board = HealthBoard(["eu-west", "us-east"], down_after=3, up_after=2, unprobed=["us-east"])
    assert board.is_up("us-east")
    assert board.get("us-east").reason == "not probed: no dispatch_url"


def test_a_region_found_down_is_reported_once_with_the_reason():
    board = probed_board(OK, down_after=2, up_after=1)
    downs: list[tuple[str, str]] = []
    board.on_down(lambda region, reason: downs.append((region, reason)))
    for result in (FAIL, FAIL, FAIL, FAIL):
        board.record("eu-west", result, 1.0)
    assert downs == [("eu-west", "boom")]


def test_a_region_that_comes_back_and_goes_down_again_is_reported_again():
    board = probed_board(OK, down_after=1, up_after=1)
    downs: list[str] = []
    board.on_down(lambda region, _reason: downs.append(region))
    for result in (FAIL, OK, FAIL):
        board.record("eu-west", result, 1.0)
    assert downs == ["eu-west", "eu-west"]


def test_a_first_probe_that_finds_a_region_down_is_not_reported_as_a_loss():
    board = HealthBoard(["eu-west"], down_after=1, up_after=1)
    downs: list[str] = []
    board.on_down(lambda region, _reason: downs.append(region))
    board.record("eu-west", FAIL, 1.0)
    assert downs == []


async def check_stub_worker(app: web.Application) -> ProbeResult:
    """Dispatch's worker check against a stub worker on loopback."""
    server = await start_stub(app)
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            return await check_worker(session, url, "support-agent-eu-west", 1.0)
    finally:
        await server.close()


async def test_worker_check_reads_load_and_jobs_from_the_worker_endpoint():
    result = await check_stub_worker(worker_app("support-agent-eu-west"))
    assert result.ok
    assert result.detail == {
        "agent_name": "support-agent-eu-west",
        "active_jobs": 2,
        "worker_load": 0.25,
    }


async def test_a_worker_running_a_job_is_up_with_the_frameworks_own_float_count():
    # livekit-agents answers /worker with MessageToJson(WorkerInfo): active_jobs is a float
    body = MessageToJson(
        WorkerInfo(agent_name="support-agent-eu-west", active_jobs=1, worker_load=0.5),
        preserving_proto_field_name=True,
    )
    assert '"active_jobs": 1.0' in body
    result = await check_stub_worker(worker_app("support-agent-eu-west", body=body.encode()))
    assert result.ok, result.reason
    assert result.detail == {
        "agent_name": "support-agent-eu-west",
        "active_jobs": 1,
        "worker_load": 0.5,
    }


async def test_worker_check_fails_when_the_worker_registers_under_another_name():
    result = await check_stub_worker(worker_app("someone-else"))
    assert not result.ok
    assert result.reason.startswith("worker registers under another agent name")
    # what the worker said goes to the operator's log line, never into the public reason
    assert "someone-else" not in result.reason
    assert "someone-else" in result.note


async def test_worker_check_fails_when_the_worker_cannot_reach_livekit():
    result = await check_stub_worker(worker_app("support-agent-eu-west", health=503))
    assert not result.ok
    assert result.reason == "worker health answered HTTP 503"


async def test_worker_check_fails_when_nothing_listens():
    async with aiohttp.ClientSession() as session:
        result = await check_worker(session, "http://127.0.0.1:9", "a", 0.5)
    assert not result.ok


async def test_probe_times_out_on_a_hanging_peer():

    release = asyncio.Event()

    async def hang(_: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/healthz", hang)
    server = await start_stub(app)
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            result = await check_peer(session, url, 0.2)
    finally:
        release.set()
        await server.close()
    assert not result.ok
    assert "timed out" in result.reason


async def test_peer_check_follows_the_peer_reported_worker_state():
    up, down = await start_stub(peer_app("up")), await start_stub(peer_app("down"))
    try:
        async with aiohttp.ClientSession() as session:
            up_result = await check_peer(session, str(up.make_url("")).rstrip("/"), 1.0)
            down_result = await check_peer(session, str(down.make_url("")).rstrip("/"), 1.0)
    finally:
        await up.close()
        await down.close()
    assert (up_result.ok, down_result.ok) == (True, False)


async def test_prober_takes_a_peer_down_and_brings_it_back_with_hysteresis(make_settings):
    state = {"value": "up"}

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"worker": {"state": state["value"]}})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    peer = await start_stub(app)
    worker = await start_stub(worker_app("support-agent-eu-west"))
    regions = [
        {"region": "eu-west", "location": "westeurope", "livekit_url": "wss://eu.example"},
        {
            "region": "us-east",
            "location": "eastus",
            "livekit_url": "wss://us.example",
            "dispatch_url": "https://dispatch.us.example",
        },
    ]
    settings = make_settings(
        MERIDIAN_REGIONS=json.dumps(regions),
        MERIDIAN_DISPATCH_WORKER_URL=str(worker.make_url("")).rstrip("/"),
        MERIDIAN_DISPATCH_PROBES=json.dumps({"down_after_failures": 2, "up_after_successes": 2}),
    )
    # the region table only holds https:// peers; the loopback stub peer speaks plain http
    own, peer_entry = settings.regions
    loopback = peer_entry.model_copy(update={"dispatch_url": str(peer.make_url("")).rstrip("/")})
    settings = dataclasses.replace(settings, regions=(own, loopback))
    board = board_for(settings)
    prober = Prober(settings, board, clock=lambda: 100.0)
    try:
        history = []
        for value in ("down", "down", "up", "up"):
            state["value"] = value
            await prober.probe_once()
            history.append(board.is_up("us-east"))
    finally:
        await prober.stop()
        await peer.close()
        await worker.close()
    assert history == [True, False, False, True]
    assert board.is_up("eu-west")
    assert board.get("eu-west").detail["worker_load"] == 0.25
