"""Real calls through a local LiveKit server, shared by the tests (tests/livekit_server/) and
`make bench`: free ports, agent workers run as `python -m benchmarks.worker_app start` (stand-ins
for the remote models only) and each region's real dispatch service, whose output can be awaited
line by line, and a caller on the livekit rtc SDK."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from livekit import api, rtc

from meridian.contract import REGION_ATTRIBUTE, WEBHOOK_PATH, Env
from meridian.local.server import LocalServerConfig, Ports
from meridian.smoke.media import AgentPresence, RtcMediaSession

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0

# Every process output read so far; the tests clear it per module and show it when one fails.
STARTED: list[Output] = []
# The attribute livekit-agents keeps current with what the agent is doing.
AGENT_STATE = "lk.agent.state"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing on loopback listens on right now (TCP, or UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_ports() -> Ports:
    """Signalling and ICE/TCP ports, and one UDP port the server muxes every call's media on."""
    udp = free_port(socket.SOCK_DGRAM)
    return Ports(http=free_port(), rtc_tcp=free_port(), udp_first=udp, udp_last=udp)


T = TypeVar("T")


class Caller(RtcMediaSession):
    """The smoke test's real participant, which also notes when the agent says it started
    speaking, and can wait for it to finish a reply (a caller who hangs up at the first word
    leaves a turn half-done)."""

    def __init__(self) -> None:
        super().__init__()
        # time.monotonic() of each change of the agent's state attribute to "speaking"
        self.speaking_at: list[float] = []
        # set on each change to "speaking"; clear it to await the next one
        self.spoke = asyncio.Event()
        self._room.on("participant_attributes_changed", self._on_attributes)

    @property
    def room_name(self) -> str:
        """The room the caller joined."""
        return self._room.name

    async def _until(self, found: Callable[[], T | None], *events: str) -> T:
        """What `found()` returns once it is not None, asked again on each of the room's
        `events`."""
        changed = asyncio.Event()

        def wake(*_: Any) -> None:
            changed.set()

        for event in events:
            self._room.on(event, wake)
        try:
            while (value := found()) is None:
                changed.clear()
                await changed.wait()
            return value
        finally:
            for event in events:
                self._room.off(event, wake)

    async def until_attribute(self, identity: str, key: str, containing: str) -> str:
        """The participant's attribute `key` once it contains `containing`."""

        def value() -> str | None:
            who = self._room.remote_participants.get(identity)
            found = who.attributes.get(key, "") if who is not None else ""
            return found if containing in found else None

        return await self._until(value, "participant_attributes_changed")

    async def jitter_buffer_delay(self) -> float | None:
        """The mean time the agent's audio spent in this caller's jitter buffer so far (s), from
        WebRTC's inbound-rtp stats (jitterBufferDelay / jitterBufferEmittedCount)."""
        track = await self._agent_track
        for stats in await track.get_stats():
            if stats.HasField("inbound_rtp"):
                inbound = stats.inbound_rtp.inbound
                if inbound.jitter_buffer_emitted_count:
                    return inbound.jitter_buffer_delay / inbound.jitter_buffer_emitted_count
        return None

    def _on_attributes(self, changed: dict[str, str], _participant: Any) -> None:
        if changed.get(AGENT_STATE) == "speaking":
            self.speaking_at.append(time.monotonic())
            self.spoke.set()

    async def next_agent(self, other_than: str) -> AgentPresence:
        """The first agent in the room, with its region attribute, that is not `other_than`
        (after a failover, the one that took over)."""

        def newcomer() -> AgentPresence | None:
            for p in self._room.remote_participants.values():
                if (
                    p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
                    and p.identity != other_than
                    and REGION_ATTRIBUTE in p.attributes
                ):
                    return AgentPresence(identity=p.identity, attributes=dict(p.attributes))
            return None

        return await self._until(
            newcomer, "participant_connected", "participant_attributes_changed"
        )

    async def until_agent_listens(self) -> None:
        """Return once the agent's `lk.agent.state` attribute is back to "listening"."""

        def listening() -> bool | None:
            agent = self._agent()
            return True if agent and agent.attributes.get(AGENT_STATE) == "listening" else None

        await self._until(listening, "participant_attributes_changed")


def join_token(server: LocalServerConfig, room: str, agent_name: str) -> str:
    """A caller's token whose RoomConfiguration dispatches `agent_name` when it joins, as the
    dispatch service mints it."""
    return (
        api.AccessToken(server.api_key, server.api_secret)
        .with_identity(f"caller-{room}")
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .with_room_config(
            api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent_name)])
        )
        .to_jwt()
    )


class Output:
    """A process's output, line by line, so a caller can wait for a line while it runs; listed
    in STARTED."""

    def __init__(self, stream: asyncio.StreamReader, name: str) -> None:
        self.name = name
        STARTED.append(self)
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self.done = asyncio.ensure_future(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    async def wait_for(self, pattern: str, *, after: int = 0) -> re.Match[str]:
        """The first line from index `after` on that matches `pattern`."""
        while True:
            for line in self.lines[after:]:
                if found := re.search(pattern, line):
                    return found
            if self.done.done():
                raise AssertionError(f"the process ended without a line matching {pattern!r}")
            self._changed.clear()
            await self._changed.wait()

    def events(self, name: str) -> list[dict[str, Any]]:
        """The structured log events called `name` (structlog's JSON lines)."""
        found = []
        for line in self.lines:
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if record.get("event") == name:
                    found.append(record)
        return found


async def run_module(
    args: list[str], env: dict[str, str], name: str
) -> tuple[asyncio.subprocess.Process, Output]:
    """`python -m <args>` from the repository root, in a process group of its own (see
    `kill_group`), its output read line by line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        limit=1 << 20,  # the framework can log a whole job request on one line
    )
    assert process.stdout is not None
    return process, Output(process.stdout, name)


# A region's environment as infra renders it (LiveKit Inference names, which the stand-ins
# replace), with one idle process and a short drain.
STAND_IN_REGION: dict[str, str] = {
    Env.LOCATION: "westeurope",
    Env.model_stage("stt", "provider"): "livekit",
    Env.model_stage("stt", "model"): "deepgram/nova-3",
    Env.model_stage("llm", "provider"): "livekit",
    Env.model_stage("llm", "model"): "openai/gpt-4.1-mini",
    Env.model_stage("tts", "provider"): "livekit",
    Env.model_stage("tts", "model"): "cartesia/sonic-3",
    Env.DRAIN_SECONDS: "30",
    Env.LOAD_THRESHOLD: "0.75",
    Env.IDLE_PROCESSES: "1",
}


def kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL a process started by `run_module` and everything it started: a worker's
    forkserver and job processes share its group and hold its output open."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Worker:
    """One agent worker process of a region, registered with the local server."""

    def __init__(self, region: str, server: LocalServerConfig, **env: str) -> None:
        self.region = region
        self.env = {
            **os.environ,
            **STAND_IN_REGION,
            Env.LIVEKIT_URL: server.url,
            Env.LIVEKIT_API_KEY: server.api_key,
            Env.LIVEKIT_API_SECRET: server.api_secret,
            Env.LIVEKIT_AGENT_NAME: f"support-agent-{region}",
            Env.REGION: region,
            # its own port: several workers share this machine
            Env.HEALTH_PORT: str(free_port()),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.output: Output | None = None

    @property
    def agent_name(self) -> str:
        return self.env[Env.LIVEKIT_AGENT_NAME]

    @property
    def health_url(self) -> str:
        """The framework's health and status server (what dispatch probes)."""
        return f"http://127.0.0.1:{self.env[Env.HEALTH_PORT]}"

    async def start(self) -> Worker:
        """Start the worker and return once the server has registered it."""
        self.process, self.output = await run_module(
            ["benchmarks.worker_app", "start"], self.env, f"worker {self.agent_name}"
        )
        await asyncio.wait_for(self.output.wait_for("registered worker"), TIMEOUT)
        return self

    def accepted_rooms(self) -> list[str]:
        """The rooms this worker was given a job in, from the framework's log."""
        assert self.output is not None
        rooms = []
        for line in self.output.lines:
            if "received job request" in line and (found := re.search(r'"room": "([^"]+)"', line)):
                rooms.append(found.group(1))
        return rooms

    def served_rooms(self) -> list[str]:
        """The rooms whose caller this worker's agent talked to (the framework links its room
        I/O to the caller once per call)."""
        assert self.output is not None
        rooms = []
        for line in self.output.lines:
            if "RoomIO linked to participant" in line and (
                found := re.search(r'"room": "([^"]+)"', line)
            ):
                rooms.append(found.group(1))
        return rooms

    async def status(self) -> dict[str, Any]:
        """The framework's own "/worker" answer (what dispatch probes)."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.health_url}/worker") as answer,
        ):
            return await answer.json(content_type=None)

    def terminate(self) -> None:
        """SIGTERM: the framework drains (finishes running jobs, takes no new ones)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def wait(self, timeout: float = TIMEOUT) -> int:
        assert self.process is not None and self.output is not None
        code = await asyncio.wait_for(self.process.wait(), timeout)
        # a job process left behind would hold the output open: that is a failure, not a hang
        await asyncio.wait_for(self.output.done, TIMEOUT)
        return code

    async def stop(self) -> None:
        """Kill the worker and its job processes, if any still run (a clean-up)."""
        if self.process is not None:
            kill_group(self.process)
            await self.process.wait()
        if self.output is not None:
            await self.output.done


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


class Regions:
    """Several regions on one local server, each with its agent worker and its real dispatch;
    the server posts its signed webhooks to one region's dispatch, as LiveKit Cloud posts to
    the global entry. Start the server with `config`, then `start` the regions."""

    def __init__(
        self,
        locations: dict[str, str],
        base: LocalServerConfig,
        *,
        webhooks_to: str,
        **dispatch_env: str,
    ) -> None:
        self.table = [
            {"region": key, "location": location, "livekit_url": base.url}
            for key, location in locations.items()
        ]
        # each dispatch learns its worker's health URL once the workers exist (below)
        self.dispatches = {
            key: Dispatch(
                key, base, worker_url="http://127.0.0.1:1", table=self.table, **dispatch_env
            )
            for key in locations
        }
        webhook = f"{self.dispatches[webhooks_to].url}{WEBHOOK_PATH}"
        self.config = dataclasses.replace(base, webhook_urls=(webhook,))
        self._locations = dict(locations)
        self.workers = {key: self.replacement(key) for key in locations}
        for key, dispatch in self.dispatches.items():
            dispatch.env[Env.dispatch("worker_url")] = self.workers[key].health_url

    def replacement(self, region: str) -> Worker:
        """A new worker for `region`, set up as its first one was (not started): a new revision
        rolling in."""
        return Worker(region, self.config, MERIDIAN_LOCATION=self._locations[region])

    async def start(self) -> Regions:
        """Start every worker, then every dispatch, and return once each dispatch has every
        region up."""
        await asyncio.gather(*(w.start() for w in self.workers.values()))
        await asyncio.gather(*(d.start() for d in self.dispatches.values()))
        await asyncio.gather(*(d.until_every_region_is_up() for d in self.dispatches.values()))
        return self

    async def stop(self) -> None:
        for part in [*self.dispatches.values(), *self.workers.values()]:
            await part.stop()
