"""A local LiveKit agent-protocol server: the `/agent` websocket that workers register with.

It speaks `livekit.protocol.agent` WorkerMessage/ServerMessage like LiveKit Cloud's dispatcher,
records everything a worker sends, and lets a test offer and assign jobs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from aiohttp import WSMsgType, web
from livekit.protocol import agent, models


@dataclass
class WorkerConnection:
    """One registered worker and the messages it has sent, in order."""

    ws: web.WebSocketResponse
    registration: agent.RegisterWorkerRequest
    authorization: str
    messages: list[agent.WorkerMessage] = field(default_factory=list)


class AgentProtocolServer:
    """Serves ws://127.0.0.1:<port>/agent; verifies each worker's token with the API secret."""

    def __init__(self, *, api_key: str, api_secret: str, region: str = "test-region") -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.region = region
        self.worker: WorkerConnection | None = None
        self._registered = asyncio.Event()
        self._received = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/agent", self._serve_worker)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve_worker(self, request: web.Request) -> web.WebSocketResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = jwt.decode(token, self.api_secret, algorithms=["HS256"])
        if claims.get("iss") != self.api_key or not claims.get("video", {}).get("agent"):
            raise web.HTTPUnauthorized()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        first = agent.WorkerMessage.FromString(await ws.receive_bytes())
        if first.WhichOneof("message") != "register":
            await ws.close()
            return ws
        self.worker = WorkerConnection(ws, first.register, token)
        reply = agent.ServerMessage(
            register=agent.RegisterWorkerResponse(
                worker_id="AW_test",
                server_info=models.ServerInfo(region=self.region, protocol=16),
            )
        )
        await ws.send_bytes(reply.SerializeToString())
        self._registered.set()
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                continue
            message = agent.WorkerMessage.FromString(msg.data)
            if message.WhichOneof("message") == "ping":
                pong = agent.WorkerPong(last_timestamp=message.ping.timestamp)
                await ws.send_bytes(agent.ServerMessage(pong=pong).SerializeToString())
            async with self._received:
                self.worker.messages.append(message)
                self._received.notify_all()
        return ws

    async def registered(self) -> WorkerConnection:
        """The worker, once it has registered."""
        await self._registered.wait()
        assert self.worker is not None
        return self.worker

    async def next_message(
        self, kind: str, where: Callable[[agent.WorkerMessage], bool] = lambda _: True
    ) -> agent.WorkerMessage:
        """The first message of this kind (e.g. "update_worker") matching `where`."""
        async with self._received:
            while True:
                for message in self.worker.messages if self.worker else []:
                    if message.WhichOneof("message") == kind and where(message):
                        return message
                await self._received.wait()

    async def offer_job(self, job: agent.Job) -> agent.AvailabilityResponse:
        """Ask the worker whether it takes the job, as the dispatcher does; returns its answer."""
        worker = await self.registered()
        request = agent.ServerMessage(availability=agent.AvailabilityRequest(job=job))
        await worker.ws.send_bytes(request.SerializeToString())
        answer = await self.next_message("availability", lambda m: m.availability.job_id == job.id)
        return answer.availability

    async def assign_job(self, job: agent.Job, *, room_token: str) -> None:
        """Hand the accepted job to the worker."""
        worker = await self.registered()
        assignment = agent.JobAssignment(job=job, url=self.url, token=room_token)
        await worker.ws.send_bytes(agent.ServerMessage(assignment=assignment).SerializeToString())
