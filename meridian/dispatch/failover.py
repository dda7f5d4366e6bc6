"""Failover: when a call's agent vanishes without a clean end (its worker killed, its region
down), bring the agent of the next-nearest healthy region into the same room.

LiveKit posts signed webhooks to dispatch through the global entry URL; `participant_left` for a
Meridian agent whose disconnect was not its own (`CLIENT_INITIATED`) while a caller is still in
the room starts a new explicit dispatch there. Each room gets at most MAX_FAILOVERS, never to a
region that has already failed it, and every decision is one log line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import aiohttp
import structlog
from aiohttp import web
from livekit import api
from livekit.protocol.models import DisconnectReason, ParticipantInfo
from livekit.protocol.webhook import WebhookEvent

from meridian.contract import FAILOVER_METADATA, REGION_ATTRIBUTE
from meridian.dispatch.health import HealthBoard
from meridian.dispatch.settings import DispatchSettings
from meridian.geo.latency import rank_regions, site_location

log = structlog.get_logger("dispatch.failover")

MAX_FAILOVERS = 2
# Reading the webhook body: LiveKit's events are a few KiB.
MAX_WEBHOOK_BYTES = 64 * 1024


@dataclass(frozen=True)
class LostAgent:
    """A Meridian agent that left a room without ending the call itself."""

    room: str
    region: str
    identity: str
    reason: str


@dataclass(frozen=True)
class Failover:
    """Dispatch the agent of `region` into `room`; `failed` are the regions that lost it, and
    `lost_agent` the identity whose loss this answers (LiveKit may post the same event twice)."""

    room: str
    region: str
    attempt: int
    failed: tuple[str, ...]
    lost_agent: str = ""

    def metadata(self) -> str:
        """What the new dispatch carries: the agent reads it to say it is back."""
        note = {"attempt": self.attempt, "failed": list(self.failed), "lost": self.lost_agent}
        return json.dumps({FAILOVER_METADATA: note})


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
    return LostAgent(room=event.room.name, region=region, identity=who.identity, reason=reason)


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
) -> Failover | str:
    """Where the room's agent comes back from, or why it does not."""
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
        if entry.region not in failed and board.is_up(entry.region):
            candidates.setdefault(entry.location, []).append(entry.region)
    if not candidates:
        return "no healthy region left that has not failed this call"
    location, _rtt = rank_regions(site_location(known[lost.region]), candidates)[0]
    region = sorted(candidates[location])[0]
    return Failover(
        room=lost.room,
        region=region,
        attempt=len(earlier) + 1,
        failed=failed,
        lost_agent=lost.identity,
    )


class FailoverService:
    """The webhook endpoint: verify LiveKit's signature, decide, dispatch, log.

    `current` returns the service's settings as they are now: the region table it routes by
    changes when the published table does.
    """

    def __init__(self, current: Callable[[], DispatchSettings], board: HealthBoard) -> None:
        self._current = current
        self.board = board
        # one decision at a time per room: LiveKit may post the same event twice at once
        self._rooms: dict[str, asyncio.Lock] = {}
        settings = current()
        self._receiver = api.WebhookReceiver(
            api.TokenVerifier(
                settings.api_key.get_secret_value(), settings.api_secret.get_secret_value()
            )
        )

    @property
    def settings(self) -> DispatchSettings:
        return self._current()

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
        lost = lost_agent(event)
        if isinstance(lost, str):
            region = event.participant.attributes.get(REGION_ATTRIBUTE)
            if event.event == "participant_left" and region:
                # a Meridian agent left: say why that starts nothing
                log.info("failover_skipped", room=event.room.name, region=region, reason=lost)
            return web.json_response({"failover": None, "reason": lost})
        lock = self._rooms.setdefault(lost.room, asyncio.Lock())
        try:
            async with lock:
                outcome = await self._fail_over(lost)
        except api.TwirpError as exc:
            if exc.code != "not_found":
                return self._api_failed(lost, exc)
            reason = "the room has closed"
            log.info("failover_skipped", room=lost.room, region=lost.region, reason=reason)
            return web.json_response({"failover": None, "reason": reason})
        except (aiohttp.ClientError, TimeoutError) as exc:
            return self._api_failed(lost, exc)
        finally:
            if not lock.locked():
                self._rooms.pop(lost.room, None)
        return web.json_response(outcome)

    @staticmethod
    def _api_failed(lost: LostAgent, exc: Exception) -> web.Response:
        # 503: LiveKit retries the webhook, and the next try may reach a healthy API
        outcome = f"LiveKit API failed: {exc}"
        log.error("failover_failed", room=lost.room, region=lost.region, reason=outcome)
        return web.json_response({"failover": None, "reason": outcome}, status=503)

    async def _fail_over(self, lost: LostAgent) -> dict[str, object]:
        url = self.settings.entry(lost.region).livekit_url
        async with api.LiveKitAPI(
            url,
            self.settings.api_key.get_secret_value(),
            self.settings.api_secret.get_secret_value(),
        ) as lk:
            people = await lk.room.list_participants(api.ListParticipantsRequest(room=lost.room))
            caller_present = any(
                p.kind != ParticipantInfo.Kind.AGENT and p.identity != lost.identity
                for p in people.participants
            )
            dispatches = await lk.agent_dispatch.list_dispatch(lost.room)
            earlier = earlier_failovers(d.metadata for d in dispatches)
            plan = plan_failover(
                lost, self.settings, self.board, caller_present=caller_present, earlier=earlier
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
            dispatch = await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=agent_name, room=plan.room, metadata=plan.metadata()
                )
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
        )
        return {"failover": plan.region, "attempt": plan.attempt, "dispatch_id": dispatch.id}
