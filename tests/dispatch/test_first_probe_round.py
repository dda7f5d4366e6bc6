"""A new dispatch replica takes its first probe round as authoritative: it hands out no token for a
region before that region's first probe result, and it listens only once the round is done."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from meridian.dispatch.app import create_app
from meridian.dispatch.settings import DispatchSettings
from tests.dispatch.support import peer_app, start_stub, worker_app

AGENT = "support-agent-eu-west"


def _closed_url(scheme: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"


def _two_regions(make_settings, worker_url: str, peer_url: str) -> DispatchSettings:
    """eu-west (this replica, its worker at `worker_url`) and us-east (a peer at `peer_url`)."""
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
        MERIDIAN_REGIONS=json.dumps(regions), MERIDIAN_DISPATCH_WORKER_URL=worker_url
    )
    # the region table only holds https:// peers; a loopback stub speaks plain http
    own, peer = settings.regions
    return dataclasses.replace(
        settings, regions=(own, peer.model_copy(update={"dispatch_url": peer_url}))
    )


@pytest.fixture
async def start_replica() -> AsyncIterator[Callable[[DispatchSettings], object]]:
    """Start a dispatch replica as production does: probing in the background."""
    clients: list[TestClient] = []

    async def start(settings: DispatchSettings) -> TestClient:
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_a_new_replica_hands_out_no_token_for_regions_its_first_round_found_dead(
    make_settings, start_replica
) -> None:
    settings = _two_regions(make_settings, _closed_url("http"), _closed_url("http"))
    client = await start_replica(settings)

    resp = await client.post("/token", json={})
    body = await resp.json()

    assert resp.status == 503
    assert body["regions"] == {"eu-west": "down", "us-east": "down"}


async def test_a_new_replica_routes_to_live_regions_from_its_first_request(
    make_settings, start_replica
) -> None:
    worker = await start_stub(worker_app(AGENT))
    peer = await start_stub(peer_app("up"))
    try:
        settings = _two_regions(
            make_settings,
            str(worker.make_url("")).rstrip("/"),
            str(peer.make_url("")).rstrip("/"),
        )
        client = await start_replica(settings)

        token = await client.post("/token", json={})
        health = await (await client.get("/healthz")).json()
        table = await (await client.get("/regions")).json()
    finally:
        await worker.close()
        await peer.close()

    assert token.status == 201
    assert health["worker"]["state"] == "up"
    assert health["worker"]["last_check"] is not None
    assert {r["region"]: r["state"] for r in table["regions"]} == {
        "eu-west": "up",
        "us-east": "up",
    }


async def test_a_dead_peer_is_down_after_the_first_round_without_waiting_for_k_failures(
    make_settings, start_replica
) -> None:
    worker = await start_stub(worker_app(AGENT))
    try:
        settings = _two_regions(
            make_settings, str(worker.make_url("")).rstrip("/"), _closed_url("http")
        )
        client = await start_replica(settings)
        table = await (await client.get("/regions")).json()
    finally:
        await worker.close()

    assert settings.policy.probes.down_after_failures > 1
    us_east = next(r for r in table["regions"] if r["region"] == "us-east")
    assert us_east["state"] == "down"
    assert us_east["reason"].startswith("/healthz unreachable")
