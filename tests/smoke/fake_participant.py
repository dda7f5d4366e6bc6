"""A fake room participant for the smoke test: it scripts what the agent does, with no media."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from livekit import api

from meridian.smoke.media import AgentPresence, Clip, ReplyTiming


class NeverHappens:
    """Marks a scripted event that never occurs (the caller's timeout must end the wait)."""


NEVER = NeverHappens()


@dataclass
class Script:
    """What the room does: who joins, what the agent says about itself, how fast it answers."""

    join_error: Exception | None = None
    agent: AgentPresence | NeverHappens = field(
        default_factory=lambda: AgentPresence("agent-AJ_1", {"meridian.region": "eu-west"})
    )
    reply: ReplyTiming | NeverHappens = field(
        default_factory=lambda: ReplyTiming(question_ms=2600.0, latency_ms=640.0)
    )
    close_error: Exception | None = None


class FakeParticipant:
    """Implements MediaSession from a Script, and records what the smoke test asked of it."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.joined_url: str | None = None
        self.token_claims: api.Claims | None = None
        self.asked: Clip | None = None
        self.closed = False
        self.asking = asyncio.Event()
        self.waiting_for_agent = asyncio.Event()

    async def join(self, url: str, token: str) -> None:
        # The token is signed by the run under test; read its grants without the secret.
        self.token_claims = api.TokenVerifier().verify(token, verify_signature=False)
        if self.script.join_error is not None:
            raise self.script.join_error
        self.joined_url = url

    async def wait_for_agent(self) -> AgentPresence:
        self.waiting_for_agent.set()
        if isinstance(self.script.agent, NeverHappens):
            await asyncio.Event().wait()
        assert isinstance(self.script.agent, AgentPresence)
        return self.script.agent

    async def ask(self, clip: Clip) -> ReplyTiming:
        self.asked = clip
        self.asking.set()
        if isinstance(self.script.reply, NeverHappens):
            await asyncio.Event().wait()
        assert isinstance(self.script.reply, ReplyTiming)
        return self.script.reply

    async def close(self) -> None:
        self.closed = True
        if self.script.close_error is not None:
            raise self.script.close_error
