"""Fixtures for the dispatch tests: settings from an env mapping and a loopback client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from meridian.dispatch.app import create_app
from meridian.dispatch.health import HealthBoard
from meridian.dispatch.ratelimit import RateLimiter
from meridian.dispatch.settings import DispatchSettings, load_settings
from tests.dispatch.support import base_env, board_for


@pytest.fixture
def make_settings() -> Callable[..., DispatchSettings]:
    return lambda **overrides: load_settings(base_env(**overrides))


@pytest.fixture
def settings(make_settings) -> DispatchSettings:
    return make_settings()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """Start the dispatch app on loopback (no background probing) and return a client."""
    clients: list[TestClient] = []

    async def start(
        settings: DispatchSettings,
        board: HealthBoard | None = None,
        limiter: RateLimiter | None = None,
    ) -> TestClient:
        app = create_app(settings, board=board or board_for(settings), limiter=limiter, probe=False)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
