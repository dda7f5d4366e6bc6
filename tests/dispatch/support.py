"""Helpers shared by the dispatch tests: the three default regions and env-built settings."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from aiohttp.test_utils import TestServer

from meridian.dispatch.health import HealthBoard, ProbeResult
from meridian.dispatch.settings import DispatchSettings
from meridian.policy import STANDARD_FIELDS

API_KEY = "APItestkey"
API_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
DEFAULT_REGIONS = [
    {"region": "us-east", "location": "eastus", "livekit_url": "wss://us.example.livekit.cloud"},
    {
        "region": "eu-west",
        "location": "westeurope",
        "livekit_url": "wss://eu.example.livekit.cloud",
    },
    {
        "region": "ap-southeast",
        "location": "southeastasia",
        "livekit_url": "wss://ap.example.livekit.cloud",
    },
]

# A deployment that lets callers choose every standard field, room and identity included.
ALL_CLIENT_FIELDS = json.dumps(list(STANDARD_FIELDS))


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        "MERIDIAN_REGION": "eu-west",
        "MERIDIAN_AGENT_NAME": "support-agent",
        "MERIDIAN_REGIONS": json.dumps(DEFAULT_REGIONS),
        "LIVEKIT_API_KEY": API_KEY,
        "LIVEKIT_API_SECRET": API_SECRET,
    }
    env.update(overrides)
    return env


def board_for(settings: DispatchSettings) -> HealthBoard:
    """The service's own board, after a first probe round that found every region up."""
    board = HealthBoard.for_settings(settings)
    for region in board.awaiting_first_probe():
        board.record(region, ProbeResult(True, "worker reachable"), 0.0)
    return board


def worker_app(
    agent_name: str, status: int = 200, health: int = 200, body: bytes | None = None
) -> web.Application:
    # The framework's "/" answers 503 while the worker cannot reach LiveKit.
    async def healthy(_: web.Request) -> web.Response:
        return web.Response(
            status=health, text="OK" if health == 200 else "failed to connect to livekit"
        )

    async def worker(_: web.Request) -> web.Response:
        if status != 200:
            return web.Response(status=status)
        if body is not None:
            return web.Response(body=body, content_type="application/json")
        return web.json_response(
            {
                "agent_name": agent_name,
                "active_jobs": 2,
                "worker_load": 0.25,
                "sdk_version": "1.8.9",
            }
        )

    app = web.Application()
    app.router.add_get("/", healthy)
    app.router.add_get("/worker", worker)
    return app


def peer_app(state: str) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "worker": {"state": state, "reason": "x"}})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


async def start_stub(app: web.Application) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    return server


async def raw_http(
    client, request: bytes, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """Send exact bytes to the test server (aiohttp's client would refuse some of them) and
    return the status, the headers and the body of the answer (read by its Content-Length)."""
    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(timeout):
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").strip().split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
            body = await reader.readexactly(int(headers.get("Content-Length", "0")))
    finally:
        writer.close()
    return int(lines[0].split()[1]), headers, body


def http_request(
    path: str, body: bytes = b"", headers: dict[str, bytes] | None = None, method: str = "POST"
) -> bytes:
    """A raw HTTP/1.1 request that closes the connection; header values are raw bytes."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: dispatch.test", b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
