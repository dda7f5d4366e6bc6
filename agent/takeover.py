"""Taking over a lost call: the failover note a job is dispatched with, the check that the agent
it replaces is really gone before the newcomer says a word, and the conversation every agent
keeps in its CONVERSATION_ATTRIBUTE so that a newcomer can carry on from it.

Dispatch may judge a region lost from its probe of the region's worker, before LiveKit reports
the agent gone; a probe can be wrong (a worker too busy to answer in time), so the newcomer asks
the agent it replaces first (ALIVE_RPC), and an answer sends it away without a word. It also
withdraws its dispatch then, so that the room's record of failovers (which dispatch reads to
bound them) holds only the ones that took over.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp
import structlog
from livekit import api, rtc
from livekit.agents import Agent, AgentSession, ConversationItemAddedEvent, llm

from agent.settings import WorkerSettings
from meridian import conversation
from meridian.contract import ALIVE_RPC, CONVERSATION_ATTRIBUTE, FAILOVER_METADATA
from meridian.conversation import CarriedMessage

# A live agent acknowledges an RPC within one round trip through LiveKit: tens of ms in a
# region, a few hundred between continents. One whose process died never does.
ALIVE_ACK_SECONDS = 1.0


@dataclass(frozen=True)
class FailoverNote:
    """Why dispatch sent this job: the regions that lost the call, and the agent it replaces."""

    attempt: int
    failed: tuple[str, ...]
    # the identity of the agent this job replaces ("" from a dispatch that did not say)
    lost: str = ""
    # the last turns of the call before its agent was lost
    conversation: tuple[CarriedMessage, ...] = ()


def failover_note(metadata: str) -> FailoverNote | None:
    """The failover note in a job's dispatch metadata; None for a new call."""
    try:
        note = json.loads(metadata).get(FAILOVER_METADATA) if metadata else None
    except (ValueError, AttributeError):
        return None
    if not isinstance(note, dict):
        return None
    attempt = note.get("attempt")
    failed = note.get("failed")
    return FailoverNote(
        attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 1,
        failed=tuple(str(r) for r in failed) if isinstance(failed, list) else (),
        lost=str(note.get("lost") or ""),
        conversation=conversation.decode(note.get("conversation")),
    )


def answer_alive(room: rtc.Room) -> None:
    """Answer ALIVE_RPC for as long as this agent is in the room."""

    async def alive(_: rtc.RpcInvocationData) -> str:
        return "alive"

    room.local_participant.register_rpc_method(ALIVE_RPC, alive)


async def still_answers(
    room: rtc.Room, identity: str, *, ack_seconds: float = ALIVE_ACK_SECONDS
) -> bool:
    """Whether the agent `identity` answers ALIVE_RPC within `ack_seconds` (False when unnamed)."""
    if not identity:
        return False
    try:
        await room.local_participant.perform_rpc(
            destination_identity=identity,
            method=ALIVE_RPC,
            payload="",
            response_timeout=ack_seconds,
            max_round_trip_latency=ack_seconds,
        )
    except rtc.RpcError:
        return False
    return True


async def withdraw(dispatch_id: str, room: str, worker: WorkerSettings) -> str | None:
    """Delete this job's own dispatch from `room`; None when done, else why it failed."""
    try:
        async with api.LiveKitAPI(
            worker.livekit_url,
            worker.api_key.get_secret_value(),
            worker.api_secret.get_secret_value(),
        ) as lk:
            await lk.agent_dispatch.delete_dispatch(dispatch_id, room)
    except (api.TwirpError, aiohttp.ClientError, TimeoutError) as exc:
        return f"LiveKit API failed: {exc}"
    return None


def history(messages: tuple[CarriedMessage, ...]) -> llm.ChatContext:
    """A chat context holding the carried conversation, for the agent that takes over."""
    chat_ctx = llm.ChatContext.empty()
    for message in messages:
        chat_ctx.add_message(role=message.role, content=message.text)
    return chat_ctx


class ConversationMirror:
    """Keeps this agent's CONVERSATION_ATTRIBUTE at the last turns of its chat context (what it
    carried over included), one update at a time: a burst of turns sends the latest state once
    the update in flight is done."""

    def __init__(self, room: rtc.Room) -> None:
        self._room = room
        self._agent: Agent | None = None
        self._task: asyncio.Task[None] | None = None
        self._stale = False

    def attach(self, session: AgentSession, agent: Agent) -> None:
        """Mirror `agent`'s conversation on each turn `session` adds, from now on."""
        self._agent = agent
        session.on("conversation_item_added", self._changed)

    def _changed(self, _: ConversationItemAddedEvent) -> None:
        self._stale = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._publish())

    async def _publish(self) -> None:
        while self._stale and self._agent is not None:
            self._stale = False
            messages = [
                CarriedMessage(item.role, item.text_content or "")
                for item in self._agent.chat_ctx.items
                if isinstance(item, llm.ChatMessage)
                and item.role in ("user", "assistant")
                and item.text_content
            ]
            try:
                await self._room.local_participant.set_attributes(
                    {CONVERSATION_ATTRIBUTE: conversation.encode(messages)}
                )
            except Exception as exc:  # a room closing under it: the call is ending anyway
                structlog.get_logger("agent.takeover").info(
                    "conversation_not_mirrored", reason=type(exc).__name__
                )
                return
