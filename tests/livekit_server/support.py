"""What the tests against the real LiveKit server add to benchmarks.live_call: the real
dispatch service as a process, and the servers whose logs a failing test shows."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aiohttp

from benchmarks.live_call import TIMEOUT, Output, free_port, run_module
from meridian.contract import Env
from meridian.local.server import LocalServer, LocalServerConfig

# The LiveKit servers of the current test module, whose logs a failing test reports (conftest).
SERVERS: list[LocalServer] = []


class Dispatch:
    """One region's real dispatch service, `python -m meridian.dispatch`, on a free port."""

    def __init__(
        self,
        region: str,
        server: LocalServerConfig,
        *,
        worker_url: str,
        table: list[dict[str, str]],
        **env: str,
    ) -> None:
        self.region = region
        self.port = free_port()
        self.env = {
            **os.environ,
            Env.REGION: region,
            Env.AGENT_BASE_NAME: "support-agent",
            Env.REGIONS: json.dumps(table),
            Env.LIVEKIT_API_KEY: server.api_key,
            Env.LIVEKIT_API_SECRET: server.api_secret,
            Env.dispatch("worker_url"): worker_url,
            Env.dispatch("port"): str(self.port),
            Env.dispatch("probes"): json.dumps({"interval_seconds": 1, "timeout_seconds": 5}),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.output: Output | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Dispatch:
        """Start the service and return once it serves (after its first probe round)."""
        self.process, self.output = await run_module(
            ["meridian.dispatch"], self.env, f"dispatch {self.region}"
        )
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    try:
                        async with http.get(f"{self.url}/healthz") as answer:
                            if answer.status == 200:
                                return self
                    except aiohttp.ClientError:
                        pass
                    if self.process.returncode is not None:
                        raise AssertionError("dispatch exited:\n" + "\n".join(self.output.lines))
                    await asyncio.sleep(0.05)  # a port to poll: nothing to await

    async def until_every_region_is_up(self) -> None:
        """Return once this service's board has every region of its table up."""
        async with aiohttp.ClientSession() as http, asyncio.timeout(TIMEOUT):
            while True:
                async with http.get(f"{self.url}/regions") as answer:
                    regions = (await answer.json())["regions"]
                if all(r["state"] == "up" for r in regions):
                    return
                await asyncio.sleep(0.2)  # the board changes on its probe rounds only

    async def token(self, **request: Any) -> tuple[str, str]:
        """POST /token as LiveKit's TokenSource does; the server URL and participant token."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/token", json=request) as answer,
        ):
            body = await answer.json()
            assert answer.status == 201, body
        return body["server_url"], body["participant_token"]

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        if self.output is not None:
            await self.output.done
