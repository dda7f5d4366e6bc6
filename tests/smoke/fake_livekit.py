"""A local fake of LiveKit's server API (RoomService and AgentDispatchService, Twirp over HTTP).

It speaks the real wire format: protobuf request and response bodies, JWT bearer auth checked
with the API key pair, and Twirp's JSON errors, so the real livekit-api client talks to it.
Apps are served on loopback from a background thread, so both async tests and the CLI's own
asyncio.run() can reach them.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from aiohttp import web
from google.protobuf.message import Message
from livekit import api
from livekit.protocol import agent_dispatch as proto_dispatch


def twirp_error(status: int, code: str, msg: str) -> web.Response:
    """A Twirp error as LiveKit sends it."""
    return web.json_response({"code": code, "msg": msg}, status=status)


@dataclass
class Failure:
    """An injected answer for one method: an error, or no answer until the fake stops.

    With `hang` and `apply_first`, the method takes effect but its answer never comes back.
    """

    status: int = 500
    code: str = "internal"
    msg: str = "injected failure"
    hang: bool = False
    apply_first: bool = False


@dataclass
class FakeLiveKit:
    """State of the fake LiveKit project: rooms, dispatches, every call, injected failures."""

    api_key: str = "APIfake"
    api_secret: str = "fake-secret-that-is-long-enough-for-hs256"
    rooms: dict[str, api.Room] = field(default_factory=dict)
    dispatches: dict[str, api.AgentDispatch] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    created_rooms: list[str] = field(default_factory=list)
    created_dispatches: list[api.AgentDispatch] = field(default_factory=list)
    release: asyncio.Event | None = None
    reached: dict[str, threading.Event] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail(self, method: str, failure: Failure | None = None) -> None:
        """Make `Service/Method` (e.g. "AgentDispatchService/CreateDispatch") fail."""
        self.failures[method] = failure or Failure()

    def called(self, method: str) -> threading.Event:
        """Set (from the server thread) once `Service/Method` has been called."""
        return self.reached.setdefault(method, threading.Event())

    def app(self) -> web.Application:
        """The aiohttp application serving /twirp/livekit.<Service>/<Method>."""
        app = web.Application()
        app.router.add_post("/twirp/livekit.{service}/{method}", self._handle)
        return app

    def _methods(self) -> dict[str, tuple[type[Message], Callable[[Message], Message]]]:
        return {
            "RoomService/ListRooms": (api.ListRoomsRequest, self._list_rooms),
            "RoomService/CreateRoom": (api.CreateRoomRequest, self._create_room),
            "RoomService/DeleteRoom": (api.DeleteRoomRequest, self._delete_room),
            "AgentDispatchService/CreateDispatch": (
                api.CreateAgentDispatchRequest,
                self._create_dispatch,
            ),
            "AgentDispatchService/DeleteDispatch": (
                api.DeleteAgentDispatchRequest,
                self._delete_dispatch,
            ),
            "AgentDispatchService/ListDispatch": (
                proto_dispatch.ListAgentDispatchRequest,
                self._list_dispatch,
            ),
        }

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = f"{request.match_info['service']}/{request.match_info['method']}"
        self.calls.append(method)
        self.called(method).set()
        auth = request.headers.get("Authorization", "")
        try:
            api.TokenVerifier(self.api_key, self.api_secret).verify(auth.removeprefix("Bearer "))
        except (jwt.PyJWTError, ValueError):
            return twirp_error(401, "unauthenticated", "invalid token")
        failure = self.failures.get(method)
        if failure is not None and not failure.apply_first:
            return await self._fail(failure)
        known = self._methods().get(method)
        if known is None:
            return twirp_error(404, "bad_route", f"no handler for {method}")
        request_class, handler = known
        try:
            message = request_class.FromString(await request.read())
            reply = handler(message)
        except LookupError as exc:
            return twirp_error(404, "not_found", str(exc))
        if failure is not None:
            return await self._fail(failure)
        return web.Response(body=reply.SerializeToString(), content_type="application/protobuf")

    async def _fail(self, failure: Failure) -> web.Response:
        if failure.hang:
            assert self.release is not None
            await self.release.wait()
        return twirp_error(failure.status, failure.code, failure.msg)

    def _list_rooms(self, req: api.ListRoomsRequest) -> Message:
        names = set(req.names)
        rooms = [r for name, r in self.rooms.items() if not names or name in names]
        return api.ListRoomsResponse(rooms=rooms)

    def _create_room(self, req: api.CreateRoomRequest) -> Message:
        room = self.rooms.setdefault(
            req.name,
            api.Room(
                sid=f"RM_{next(self._ids)}",
                name=req.name,
                empty_timeout=req.empty_timeout,
                metadata=req.metadata,
            ),
        )
        self.created_rooms.append(req.name)
        return room

    def _delete_room(self, req: api.DeleteRoomRequest) -> Message:
        if req.room not in self.rooms:
            raise LookupError(f"room {req.room} not found")
        del self.rooms[req.room]
        # Deleting a room ends its dispatches, as on a real server.
        for key in [k for k, d in self.dispatches.items() if d.room == req.room]:
            del self.dispatches[key]
        return api.DeleteRoomResponse()

    def _create_dispatch(self, req: api.CreateAgentDispatchRequest) -> Message:
        dispatch = api.AgentDispatch(
            id=f"AD_{next(self._ids)}",
            agent_name=req.agent_name,
            room=req.room,
            metadata=req.metadata,
        )
        self.dispatches[dispatch.id] = dispatch
        self.created_dispatches.append(dispatch)
        return dispatch

    def _delete_dispatch(self, req: api.DeleteAgentDispatchRequest) -> Message:
        dispatch = self.dispatches.pop(req.dispatch_id, None)
        if dispatch is None:
            raise LookupError(f"dispatch {req.dispatch_id} not found")
        return dispatch

    def _list_dispatch(self, req: proto_dispatch.ListAgentDispatchRequest) -> Message:
        found = [d for d in self.dispatches.values() if d.room == req.room]
        return proto_dispatch.ListAgentDispatchResponse(agent_dispatches=found)


class LoopbackServer:
    """Serves aiohttp apps on 127.0.0.1 from a background thread with its own event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runners: list[web.AppRunner] = []
        self.release = asyncio.Event()
        self._thread.start()

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)  # type: ignore[arg-type]

    def serve(self, app: web.Application) -> str:
        """Start serving `app` on a free port; returns its base URL."""

        async def start() -> str:
            runner = web.AppRunner(app, shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            port = runner.addresses[0][1]
            return f"http://127.0.0.1:{port}"

        return str(self._call(start()))

    def run(self, fn: Callable[[], None]) -> None:
        """Run a function on the server's loop (to change state the handlers read)."""

        async def call() -> None:
            fn()

        self._call(call())

    def close(self) -> None:
        """Release hung handlers, stop every app and the loop."""

        async def stop() -> None:
            self.release.set()
            for runner in self._runners:
                await runner.cleanup()

        self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()
