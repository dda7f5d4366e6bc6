"""Probes against hostile or broken answers (issue 11): each probe is isolated and bounded, so one
odd peer or worker fails only itself while the others still fail over on time."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time

import aiohttp
import pytest
from aiohttp import web

from meridian.dispatch.health import (
    MAX_PROBE_BODY_BYTES,
    Prober,
    check_peer,
    check_worker,
    health_url,
)
from tests.dispatch.support import board_for, start_stub

AGENT = "support-agent-eu-west"
TIMEOUT = 0.5


def test_health_url_for_a_bare_origin_and_for_a_path_prefix():
    assert health_url("https://dispatch.example.com") == "https://dispatch.example.com/healthz"
    assert (
        health_url("https://meridian.z01.azurefd.net/regions/eu-west")
        == "https://meridian.z01.azurefd.net/regions/eu-west/healthz"
    )
    assert (
        health_url("https://x.example/regions/eu-west/")
        == "https://x.example/regions/eu-west/healthz"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _huge(request: web.Request) -> web.StreamResponse:
    # 200 MB of valid-looking JSON, streamed without a Content-Length
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"a" * (1 << 20)
    try:
        await response.write(b'{"worker": {"state": "up", "pad": "')
        for _ in range(200):
            await response.write(chunk)
        await response.write(b'"}}')
    except (ConnectionError, RuntimeError):
        pass
    return response


def _peer_stub(other_host: str) -> web.Application:
    """One server, a route per misbehaving peer, each under the path prefix Front Door uses."""

    def fixed(body: bytes, status: int = 200, headers: dict[str, str] | None = None):
        async def handler(_: web.Request) -> web.Response:
            return web.Response(body=body, status=status, headers=headers)

        return handler

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(TIMEOUT * 6)
        return web.json_response({"worker": {"state": "up"}})

    up = json.dumps({"worker": {"state": "up"}}).encode()
    routes = {
        "good": fixed(up),
        "huge": _huge,
        "declared": fixed(b"{}", headers={"Content-Length": str(200 * 1024 * 1024)}),
        "deep": fixed(b"[" * 60_000),
        "deepobj": fixed(b'{"worker":' * 5_000),
        "nan": fixed(b'{"worker": {"state": "up", "active_jobs": NaN}}'),
        "text": fixed(b"<html>it works</html>"),
        "types": fixed(b'{"worker": ["up"]}'),
        "redirect": fixed(b"", 302, {"Location": f"{other_host}/regions/good/healthz"}),
        "slow": slow,
    }
    app = web.Application()
    for key, handler in routes.items():
        app.router.add_get(f"/regions/{key}/healthz", handler)
    return app


def _worker_stub(worker_body: bytes) -> web.Application:
    async def healthy(_: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def worker(_: web.Request) -> web.Response:
        return web.Response(body=worker_body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/", healthy)
    app.router.add_get("/worker", worker)
    return app


PEERS = (
    "good",
    "huge",
    "declared",
    "deep",
    "deepobj",
    "nan",
    "text",
    "types",
    "redirect",
    "refused",
    "slow",
)


@pytest.mark.parametrize(
    "worker_body",
    [
        b'{"agent_name": "support-agent-eu-west", "active_jobs": 1, "worker_load": 0.5}',
        b'{"agent_name": "support-agent-eu-west", "active_jobs": Infinity}',
    ],
    ids=["good-worker", "infinity-worker"],
)
async def test_one_odd_answer_fails_only_its_own_region(make_settings, worker_body):
    worker = await start_stub(_worker_stub(worker_body))
    # the redirect target is a healthy peer on another host name: following it would say "up"
    target = await start_stub(_peer_stub("http://unused"))
    target_url = f"http://localhost:{target.port}"
    peers = await start_stub(_peer_stub(target_url))
    base = f"http://127.0.0.1:{peers.port}"
    refused = f"http://127.0.0.1:{_free_port()}"
    settings = make_settings(
        MERIDIAN_DISPATCH_WORKER_URL=str(worker.make_url("")).rstrip("/"),
        MERIDIAN_DISPATCH_PROBES=json.dumps(
            {"timeout_seconds": TIMEOUT, "down_after_failures": 2, "up_after_successes": 1}
        ),
    )
    own = settings.entry("eu-west")
    template = settings.entry("us-east")
    entries = [own] + [
        template.model_copy(
            update={
                "region": key,
                "dispatch_url": refused if key == "refused" else f"{base}/regions/{key}",
            }
        )
        for key in PEERS
    ]
    settings = dataclasses.replace(settings, regions=tuple(entries))
    board = board_for(settings)
    prober = Prober(settings, board, clock=time.time)
    durations = []
    try:
        for _ in range(2):
            started = time.monotonic()
            await prober.probe_once()
            durations.append(time.monotonic() - started)
    finally:
        await prober.stop()
        for server in (worker, target, peers):
            await server.close()

    states = {key: board.get(key).state for key in PEERS}
    assert states == {key: ("up" if key == "good" else "down") for key in PEERS}
    # every round ends within the probe timeout (plus scheduling slack), however a peer misbehaves
    assert max(durations) < TIMEOUT + 0.4
    reasons = {key: board.get(key).reason for key in PEERS}
    assert reasons["huge"] == f"/healthz answered more than {MAX_PROBE_BODY_BYTES} bytes"
    assert reasons["declared"] == f"/healthz answered more than {MAX_PROBE_BODY_BYTES} bytes"
    assert (
        reasons["deep"]
        == reasons["deepobj"]
        == reasons["text"]
        == ("/healthz answered malformed JSON")
    )
    assert reasons["nan"] == "/healthz answered malformed JSON"
    assert reasons["types"] == "/healthz peer reports its worker down"
    assert reasons["redirect"] == "/healthz answered HTTP 302"
    assert reasons["refused"].startswith("/healthz unreachable: ")
    assert reasons["slow"] == f"/healthz timed out after {TIMEOUT:g}s"
    if b"Infinity" in worker_body:
        assert board.get("eu-west").state == "down"
        assert board.get("eu-west").reason == "worker answered malformed JSON"
    else:
        assert board.get("eu-west").state == "up"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"agent_name": "support-agent-eu-west", "active_jobs": 1e999}', "malformed load"),
        (b'{"agent_name": "support-agent-eu-west", "active_jobs": "2"}', "malformed load"),
        (b'{"agent_name": "support-agent-eu-west", "active_jobs": true}', "malformed load"),
        (b'{"agent_name": "support-agent-eu-west", "worker_load": -1}', "malformed load"),
        (
            b'{"agent_name": "support-agent-eu-west", "active_jobs": 1' + b"0" * 5000 + b"}",
            "malformed load",
        ),
        (b'{"agent_name": ["support-agent-eu-west"]}', "another agent name"),
        (b"[1, 2]", "JSON that is not an object"),
        (b"\xff\xfe", "malformed JSON"),
    ],
)
async def test_worker_check_refuses_malformed_reports(body, reason):
    server = await start_stub(_worker_stub(body))
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            result = await check_worker(session, url, AGENT, 1.0)
    finally:
        await server.close()
    assert not result.ok
    assert reason in result.reason


async def test_public_pages_never_echo_what_a_worker_or_peer_said(serve, make_settings):
    leak = "<script>internal-host-10.0.0.7 stack trace</script>"

    async def failing(_: web.Request) -> web.Response:
        return web.Response(status=503, text=leak)

    async def peer_down(_: web.Request) -> web.Response:
        return web.json_response({"worker": {"state": "down", "reason": leak}})

    app = web.Application()
    app.router.add_get("/", failing)
    app.router.add_get("/healthz", peer_down)
    stub = await start_stub(app)
    url = str(stub.make_url("")).rstrip("/")
    settings = make_settings(
        MERIDIAN_DISPATCH_WORKER_URL=url,
        MERIDIAN_DISPATCH_PROBES=json.dumps({"down_after_failures": 1}),
    )
    us = settings.entry("us-east").model_copy(update={"dispatch_url": url})
    settings = dataclasses.replace(
        settings, regions=(us, settings.entry("eu-west"), settings.entry("ap-southeast"))
    )
    board = board_for(settings)
    prober = Prober(settings, board)
    try:
        await prober.probe_once()
    finally:
        await prober.stop()
        await stub.close()
    client = await serve(settings, board=board)
    healthz = await (await client.get("/healthz")).text()
    regions = await (await client.get("/regions")).text()
    assert "script" not in healthz and "script" not in regions
    assert json.loads(healthz)["worker"]["reason"] == "worker health answered HTTP 503"
    by_region = {r["region"]: r["reason"] for r in json.loads(regions)["regions"]}
    assert by_region["us-east"] == "/healthz peer reports its worker down"


async def test_peer_check_reaches_a_path_prefixed_dispatch_url():
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"worker": {"state": "up"}})

    app = web.Application()
    app.router.add_get("/regions/us-east/healthz", healthz)
    server = await start_stub(app)
    try:
        async with aiohttp.ClientSession() as session:
            base = str(server.make_url("/regions/us-east"))
            result = await check_peer(session, base, 1.0)
    finally:
        await server.close()
    assert result.ok, result.reason
