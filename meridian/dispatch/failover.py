"""Failover: when a call's agent vanishes without a clean end (its worker killed, its region
down), bring the agent of the next-nearest healthy region into the same room.

Two triggers start a new explicit dispatch there. The fast one: a dispatch whose probe finds its
own region's worker down sweeps the rooms that region's agents are in. The sure one: LiveKit
posts signed webhooks to dispatch through the global entry URL, and `participant_left` for a
Meridian agent whose disconnect was not its own (`CLIENT_INITIATED`) while a caller is still in
the room fails over that room. Each room gets at most MAX_FAILOVERS, never to a region that has
already failed it, one per lost agent whichever trigger comes first, and every decision is one
log line.

The same webhook also brings an agent to a caller who never got one: LiveKit drops a job that
no worker takes (an idle worker may refuse callers arriving together), so AGENT_GRACE_SECONDS
after `participant_joined` for a caller, a room whose agent dispatch has no job gets it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from livekit import api
from livekit.protocol.models import DisconnectReason, ParticipantInfo
from livekit.protocol.webhook import WebhookEvent

from meridian import conversation
from meridian.contract import (
    AGENT_NAME_ATTRIBUTE,
    CONVERSATION_ATTRIBUTE,
    FAILOVER_METADATA,
    REGION_ATTRIBUTE,
)
from meridian.conversation import CarriedMessage
from meridian.dispatch.health import HealthBoard
from meridian.dispatch.settings import DispatchSettings
from meridian.geo.latency import rank_regions, site_location

log = structlog.get_logger("dispatch.failover")

MAX_FAILOVERS = 2
# Reading the webhook body: LiveKit's events are a few KiB.
MAX_WEBHOOK_BYTES = 64 * 1024
# A sweep lists the participants of this many rooms at a time, and fails them over one at a
# time: a worker with no job running takes only as many jobs at once as it has idle processes
# (livekit-agents counts each pending one at threshold / idle processes), so a burst into an
# idle region is refused but the first; one at a time, each is taken in 0.1 to 0.3 s.
SWEEP_CONCURRENCY = 16
FAILOVER_CONCURRENCY = 1
# A worker that takes a dispatch's job joins the room within a few hundred ms, and LiveKit says
# nothing when none does: a failover dispatch with neither a job nor its agent in the room after
# ASSIGN_SECONDS was refused. (The open-source server lists the first job it sends a newly
# registered worker seconds late, 4.8 s in one run, though the agent joined in 0.3 s.)
ASSIGN_SECONDS = 1.0
ASSIGN_POLL_SECONDS = 0.1
# A region that refused a failover this many times is passed over for the next nearest.
REFUSALS_PER_REGION = 2
# A caller with no agent this long after joining was not given one: LiveKit drops a job that no
# worker takes, and an idle worker may refuse callers arriving together beyond its idle processes.
# Its agent is then dispatched again up to REDISPATCH_TRIES times, the pause between tries
# doubling from REDISPATCH_PAUSE_SECONDS (a full worker takes seconds to report that it is not).
AGENT_GRACE_SECONDS = 3.0
REDISPATCH_TRIES = 4
REDISPATCH_PAUSE_SECONDS = 0.5


@dataclass(frozen=True)
class LostAgent:
    """A Meridian agent that left a room without ending the call itself; `conversation` is its
    CONVERSATION_ATTRIBUTE, the call's last turns, as LiveKit last had it."""

    room: str
    region: str
    identity: str
    reason: str
    conversation: str = ""


@dataclass(frozen=True)
class Failover:
    """Dispatch the agent of `region` into `room`; `failed` are the regions that lost it, and
    `lost_agent` the identity whose loss this answers (LiveKit may post the same event twice)."""

    room: str
    region: str
    attempt: int
    failed: tuple[str, ...]
    lost_agent: str = ""
    conversation: tuple[CarriedMessage, ...] = ()

    def metadata(self) -> str:
        """What the new dispatch carries: the agent reads it to say it is back, and to carry on
        from the conversation so far."""
        note: dict[str, object] = {
            "attempt": self.attempt,
            "failed": list(self.failed),
            "lost": self.lost_agent,
        }
        if self.conversation:
            note["conversation"] = [asdict(m) for m in self.conversation]
        return json.dumps({FAILOVER_METADATA: note}, ensure_ascii=False)


@dataclass(frozen=True)
class EarlierFailover:
    """A failover dispatch already in the room."""

    failed: tuple[str, ...]
    lost_agent: str


def lost_agent(event: WebhookEvent) -> LostAgent | str:
    """The agent this event reports lost, or why the event starts no failover."""
    if event.event != "participant_left":
        return f"{event.event or 'an event'} is not a participant leaving"
    who: ParticipantInfo = event.participant
    region = who.attributes.get(REGION_ATTRIBUTE)
    if who.kind != ParticipantInfo.Kind.AGENT or not region:
        return "not a Meridian agent leaving"
    reason = DisconnectReason.Name(who.disconnect_reason)
    if who.disconnect_reason == DisconnectReason.CLIENT_INITIATED:
        return "the agent ended its session itself"
    return LostAgent(
        room=event.room.name,
        region=region,
        identity=who.identity,
        reason=reason,
        conversation=who.attributes.get(CONVERSATION_ATTRIBUTE, ""),
    )


@dataclass(frozen=True)
class ArrivedCaller:
    """A caller who joined a room; dispatch checks, AGENT_GRACE_SECONDS later, that its agent
    came too."""

    room: str
    identity: str


def arrived_caller(event: WebhookEvent) -> ArrivedCaller | None:
    """The caller this event reports joining, or None."""
    who: ParticipantInfo = event.participant
    if event.event != "participant_joined" or who.kind == ParticipantInfo.Kind.AGENT:
        return None
    return ArrivedCaller(room=event.room.name, identity=who.identity)


@dataclass(frozen=True)
class Redispatch:
    """Dispatch `agent_name` again into `room`: no worker took its first dispatch."""

    room: str
    agent_name: str


def plan_redispatch(
    caller: ArrivedCaller,
    dispatches: Sequence[api.AgentDispatch],
    people: Sequence[ParticipantInfo],
) -> Redispatch | str:
    """What brings the waiting caller its agent, or why nothing needs to."""
    if not any(p.identity == caller.identity for p in people):
        return "the caller has left"
    if any(p.kind == ParticipantInfo.Kind.AGENT for p in people):
        return "the room has its agent"
    if any(d.state.jobs for d in dispatches):
        return "a worker took the room's dispatch"
    names = sorted({d.agent_name for d in dispatches if d.agent_name})
    if not names:
        return "the room has no agent dispatch"
    return Redispatch(room=caller.room, agent_name=names[0])


def earlier_failovers(dispatch_metadata: Iterable[str]) -> list[EarlierFailover]:
    """The room's earlier failover dispatches, from their metadata (others are ignored)."""
    found = []
    for metadata in dispatch_metadata:
        try:
            note = json.loads(metadata).get(FAILOVER_METADATA)
        except (ValueError, AttributeError):
            continue
        if isinstance(note, dict) and isinstance(note.get("failed"), list):
            failed = tuple(str(r) for r in note["failed"])
            found.append(EarlierFailover(failed, str(note.get("lost", ""))))
    return found


def plan_failover(
    lost: LostAgent,
    settings: DispatchSettings,
    board: HealthBoard,
    *,
    caller_present: bool,
    earlier: Sequence[EarlierFailover],
    passed_over: Collection[str] = (),
) -> Failover | str:
    """Where the room's agent comes back from, or why it does not; `passed_over` are regions
    whose workers refused this failover already."""
    if not caller_present:
        return "no caller left in the room"
    if any(e.lost_agent == lost.identity for e in earlier):
        return f"{lost.identity} has already been replaced"
    if len(earlier) >= MAX_FAILOVERS:
        return f"the room has had {len(earlier)} failovers, the most allowed"
    failed = tuple(dict.fromkeys([r for e in earlier for r in e.failed] + [lost.region]))
    known = {e.region: e.location for e in settings.regions}
    if lost.region not in known:
        return f"region {lost.region!r} is not in the region table"
    candidates: dict[str, list[str]] = {}
    for entry in settings.regions:
        if (
            entry.region not in failed
            and entry.region not in passed_over
            and board.is_up(entry.region)
        ):
            candidates.setdefault(entry.location, []).append(entry.region)
    if not candidates:
        return "no healthy region left that has not failed or refused this call"
    location, _rtt = rank_regions(site_location(known[lost.region]), candidates)[0]
    region = sorted(candidates[location])[0]
    return Failover(
        room=lost.room,
        region=region,
        attempt=len(earlier) + 1,
        failed=failed,
        lost_agent=lost.identity,
        conversation=conversation.decode(lost.conversation),
    )


class FailoverService:
    """The webhook endpoint (verify LiveKit's signature, decide, dispatch, log), and the sweep
    that fails over every room of this dispatch's own region when its worker is found down.

    `current` returns the service's settings as they are now: the region table it routes by
    changes when the published table does.
    """

    def __init__(self, current: Callable[[], DispatchSettings], board: HealthBoard) -> None:
        self._current = current
        self.board = board
        # one decision at a time per room: LiveKit may post the same event twice at once, and a
        # sweep may reach a room while its webhook does
        self._rooms: dict[str, asyncio.Lock] = {}
        # the sweeps and agent checks in progress
        self._tasks: set[asyncio.Task[object]] = set()
        settings = current()
        self._receiver = api.WebhookReceiver(
            api.TokenVerifier(
                settings.api_key.get_secret_value(), settings.api_secret.get_secret_value()
            )
        )
        board.on_down(self._region_down)

    @property
    def settings(self) -> DispatchSettings:
        return self._current()

    def _livekit(self, region: str) -> api.LiveKitAPI:
        """LiveKit's server API for `region`, with the project's key pair."""
        return api.LiveKitAPI(
            self.settings.entry(region).livekit_url,
            self.settings.api_key.get_secret_value(),
            self.settings.api_secret.get_secret_value(),
        )

    @contextlib.asynccontextmanager
    async def _room_lock(self, room: str) -> AsyncIterator[None]:
        """One decision at a time for `room`; the lock is dropped once nobody waits on it."""
        lock = self._rooms.setdefault(room, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked():
                self._rooms.pop(room, None)

    async def webhook(self, request: web.Request) -> web.Response:
        """LiveKit's webhook: 200 for every verified event (LiveKit retries anything else)."""
        body = await request.content.read(MAX_WEBHOOK_BYTES + 1)
        if len(body) > MAX_WEBHOOK_BYTES:
            return web.json_response({"error": "webhook body too large"}, status=413)
        try:
            event = self._receiver.receive(
                body.decode("utf-8", "replace"), request.headers.get("Authorization", "")
            )
        except Exception:  # livekit-api raises several types for a bad signature or body
            log.warning("webhook_refused", reason="bad signature or body")
            return web.json_response({"error": "webhook signature not valid"}, status=401)
        caller = arrived_caller(event)
        if caller is not None:
            self._spawn(self._check_agent(caller), f"agent-check-{caller.room}")
            return web.json_response({"failover": None, "reason": "a caller joined"})
        lost = lost_agent(event)
        if isinstance(lost, str):
            region = event.participant.attributes.get(REGION_ATTRIBUTE)
            if event.event == "participant_left" and region:
                # a Meridian agent left: say why that starts nothing
                log.info("failover_skipped", room=event.room.name, region=region, reason=lost)
            return web.json_response({"failover": None, "reason": lost})
        outcome, status = await self._answer(lost)
        return web.json_response(outcome, status=status)

    async def _answer(self, lost: LostAgent) -> tuple[dict[str, object], int]:
        """Decide and dispatch for one lost agent: the outcome, and 503 when LiveKit's API failed
        (LiveKit retries the webhook, and the next try may reach a healthy API)."""
        try:
            async with self._room_lock(lost.room):
                return await self._fail_over(lost), 200
        except api.TwirpError as exc:
            if exc.code != "not_found":
                return self._api_failed(lost, exc), 503
            reason = "the room has closed"
            log.info("failover_skipped", room=lost.room, region=lost.region, reason=reason)
            return {"failover": None, "reason": reason}, 200
        except (aiohttp.ClientError, TimeoutError) as exc:
            return self._api_failed(lost, exc), 503

    @staticmethod
    def _api_failed(lost: LostAgent, exc: Exception) -> dict[str, object]:
        outcome = f"LiveKit API failed: {exc}"
        log.error("failover_failed", room=lost.room, region=lost.region, reason=outcome)
        return {"failover": None, "reason": outcome}

    def _region_down(self, region: str, reason: str) -> None:
        # Only the region's own dispatch sweeps: it alone probes that worker directly, and one
        # sweeper per region means no two dispatches race for a room. When the whole region is
        # gone, dispatch with it, LiveKit's participant_left webhook still brings the failover.
        if region != self.settings.region:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the board changed outside a running service: nothing to sweep
            return
        self._spawn(self.sweep(region, f"worker probe: {reason}"), f"failover-sweep-{region}", loop)

    def _spawn(
        self,
        work: Coroutine[Any, Any, object],
        name: str,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        task = (loop or asyncio.get_running_loop()).create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check_agent(self, caller: ArrivedCaller) -> dict[str, object]:
        """AGENT_GRACE_SECONDS after a caller joined: if no worker took the room's agent
        dispatch, dispatch that agent again (the outcome; nothing is logged when all is well)."""
        # the grace is the point: an agent normally joins well within it
        await asyncio.sleep(AGENT_GRACE_SECONDS)
        try:
            async with self._room_lock(caller.room):
                return await self._redispatch(caller)
        except api.TwirpError as exc:
            if exc.code != "not_found":
                return self._check_failed(caller, exc)
            # the call ended within the grace, and its room with it: nothing to check
            reason = "the room has closed"
            log.info("agent_check_skipped", room=caller.room, reason=reason)
            return {"redispatch": None, "reason": reason}
        except (aiohttp.ClientError, TimeoutError) as exc:
            return self._check_failed(caller, exc)

    @staticmethod
    def _check_failed(caller: ArrivedCaller, exc: Exception) -> dict[str, object]:
        reason = f"LiveKit API failed: {exc}"
        log.error("agent_check_failed", room=caller.room, reason=reason)
        return {"redispatch": None, "reason": reason}

    async def _redispatch(self, caller: ArrivedCaller) -> dict[str, object]:
        async with self._livekit(self.settings.region) as lk:
            people = await lk.room.list_participants(api.ListParticipantsRequest(room=caller.room))
            dispatches = await lk.agent_dispatch.list_dispatch(caller.room)
            plan = plan_redispatch(caller, dispatches, people.participants)
            if isinstance(plan, str):
                return {"redispatch": None, "reason": plan}
            refused = [d for d in dispatches if d.agent_name == plan.agent_name]
            for dispatch in refused:
                await lk.agent_dispatch.delete_dispatch(dispatch.id, plan.room)
            metadata = next((d.metadata for d in refused if d.metadata), "")
            for attempt in range(1, REDISPATCH_TRIES + 1):
                if attempt > 1:
                    await asyncio.sleep(REDISPATCH_PAUSE_SECONDS * 2 ** (attempt - 2))
                again, taken = await _dispatch_taken(lk, plan.agent_name, plan.room, metadata)
                if taken is not None:
                    log.warning(
                        "agent_redispatched",
                        room=plan.room,
                        agent_name=plan.agent_name,
                        attempt=attempt,
                        dispatch_id=again.id,
                        taken_by=taken,
                        reason="no worker took the room's agent dispatch",
                    )
                    return {"redispatch": plan.agent_name, "attempt": attempt, "taken_by": taken}
        reason = f"no worker took {plan.agent_name} in {REDISPATCH_TRIES} more tries"
        log.error("agent_not_taken", room=plan.room, agent_name=plan.agent_name, reason=reason)
        return {"redispatch": None, "reason": reason}

    async def sweep(self, region: str, reason: str) -> list[dict[str, object]]:
        """Fail over every room where an agent of `region` is, because `reason` says that
        region's worker is down; the outcome for each such agent.

        The agents are still in their rooms (LiveKit notices a vanished one only when its
        connection times out), so each newcomer asks the one it replaces first
        (agent/takeover.py) and leaves if it answers.
        """
        try:
            lost = await self._agents_of(region, reason)
        except (api.TwirpError, aiohttp.ClientError, TimeoutError) as exc:
            log.error("failover_sweep_failed", region=region, reason=f"LiveKit API failed: {exc}")
            return []
        log.warning("failover_sweep", region=region, reason=reason, agents=len(lost))
        limit = asyncio.Semaphore(FAILOVER_CONCURRENCY)

        async def answer(agent: LostAgent) -> dict[str, object]:
            async with limit:
                outcome, _status = await self._answer(agent)
            return outcome

        return list(await asyncio.gather(*(answer(agent) for agent in lost)))

    async def _agents_of(self, region: str, reason: str) -> list[LostAgent]:
        """The Meridian agents of `region` in the project's rooms, as LiveKit lists them now."""
        async with self._livekit(region) as lk:
            rooms = await lk.room.list_rooms(api.ListRoomsRequest())
            limit = asyncio.Semaphore(SWEEP_CONCURRENCY)

            async def agents_in(room: str) -> list[LostAgent]:
                async with limit:
                    people = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
                return [
                    LostAgent(
                        room=room,
                        region=region,
                        identity=p.identity,
                        reason=reason,
                        conversation=p.attributes.get(CONVERSATION_ATTRIBUTE, ""),
                    )
                    for p in people.participants
                    if p.kind == ParticipantInfo.Kind.AGENT
                    and p.attributes.get(REGION_ATTRIBUTE) == region
                ]

            # every room: Room.num_participants is not kept current by every server
            found = await asyncio.gather(*(agents_in(r.name) for r in rooms.rooms))
        return [agent for agents in found for agent in agents]

    async def drain(self) -> None:
        """Wait for the sweeps and agent checks in progress to finish."""
        await asyncio.gather(*list(self._tasks))

    async def stop(self) -> None:
        """Cancel the sweeps and agent checks in progress (the service is shutting down)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fail_over(self, lost: LostAgent) -> dict[str, object]:
        async with self._livekit(lost.region) as lk:
            people = await lk.room.list_participants(api.ListParticipantsRequest(room=lost.room))
            caller_present = any(
                p.kind != ParticipantInfo.Kind.AGENT and p.identity != lost.identity
                for p in people.participants
            )
            dispatches = await lk.agent_dispatch.list_dispatch(lost.room)
            earlier = earlier_failovers(d.metadata for d in dispatches)
            refusals: Counter[str] = Counter()
            while True:
                full = [r for r, n in refusals.items() if n >= REFUSALS_PER_REGION]
                plan = plan_failover(
                    lost,
                    self.settings,
                    self.board,
                    caller_present=caller_present,
                    earlier=earlier,
                    passed_over=full,
                )
                if isinstance(plan, str):
                    log.info(
                        "failover_skipped",
                        room=lost.room,
                        region=lost.region,
                        disconnect=lost.reason,
                        reason=plan,
                    )
                    return {"failover": None, "reason": plan}
                agent_name = self.settings.tagged_agent_name(plan.region)
                dispatch, taken = await _dispatch_taken(lk, agent_name, plan.room, plan.metadata())
                if taken is not None:
                    break
                refusals[plan.region] += 1
                log.warning(
                    "failover_refused",
                    room=plan.room,
                    region=plan.region,
                    refusals=refusals[plan.region],
                    reason=f"no worker of the region took the job within {ASSIGN_SECONDS:g} s",
                )
        log.warning(
            "failover_dispatched",
            room=plan.room,
            lost_region=lost.region,
            disconnect=lost.reason,
            region=plan.region,
            agent_name=agent_name,
            attempt=plan.attempt,
            dispatch_id=dispatch.id,
            taken_by=taken,
        )
        return {"failover": plan.region, "attempt": plan.attempt, "dispatch_id": dispatch.id}


async def _dispatch_taken(
    lk: api.LiveKitAPI, agent_name: str, room: str, metadata: str
) -> tuple[api.AgentDispatch, str | None]:
    """Dispatch `agent_name` into `room`, and what shows a worker took it (its job, or its agent
    in the room); a dispatch no worker took within ASSIGN_SECONDS is withdrawn (None), so that it
    does not count as a failover.
    LiveKit finds no worker willing to take a job when, e.g., an idle worker refuses a burst
    beyond its idle processes."""
    dispatch = await lk.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=metadata)
    )
    taken = await _taken(lk, dispatch.id, agent_name, room)
    if taken is None:
        await lk.agent_dispatch.delete_dispatch(dispatch.id, room)
    return dispatch, taken


async def _taken(lk: api.LiveKitAPI, dispatch_id: str, agent_name: str, room: str) -> str | None:
    """Within ASSIGN_SECONDS, the job LiveKit lists for the dispatch, or else the identity of the
    agent of `agent_name` that joined the room (a worker took it, though LiveKit has not listed
    the job yet); None when neither came."""
    async with asyncio.timeout(ASSIGN_SECONDS + 1):  # one more second bounds the last requests
        deadline = asyncio.get_running_loop().time() + ASSIGN_SECONDS
        while True:
            found = await lk.agent_dispatch.get_dispatch(dispatch_id, room)
            if found is not None and found.state.jobs:
                return found.state.jobs[0].id
            people = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
            joined = next(
                (
                    p.identity
                    for p in people.participants
                    if p.kind == ParticipantInfo.Kind.AGENT
                    and p.attributes.get(AGENT_NAME_ATTRIBUTE) == agent_name
                ),
                None,
            )
            if joined is not None:
                return joined
            if asyncio.get_running_loop().time() >= deadline:
                return None
            # LiveKit's API reports an assignment only when asked
            await asyncio.sleep(ASSIGN_POLL_SECONDS)
