"""When the caller goes on after the agent has started answering: stop, drop, answer the whole.

A fast turn gate sometimes answers a finished sentence that was only the start of a question
("I bought a laptop ... and the screen keeps flickering"). Speech that starts within
`window` seconds of the turn being committed, while the reply to it is still pending or playing,
is the caller resuming, not a barge-in on a long answer: the reply stops at once, without the
barge-in minimums (half a second of speech, two words) that keep "mm-hm" from stopping a reply
later on, and the next turn is answered as one question with the first part, the dropped reply
removed from the history.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from livekit.agents import AgentSession, UserStateChangedEvent, llm


@dataclass
class _Answering:
    """The turn being answered: when it was committed and whether the caller resumed."""

    committed_at: float
    resumed: bool = False


class ResumeWatch:
    """Watches one session for the caller resuming right after a turn was committed."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._answering: _Answering | None = None
        self._session: AgentSession | None = None

    def attach(self, session: AgentSession) -> None:
        """Start listening to the session's user state."""
        self._session = session
        session.on("user_state_changed", self._on_user_state)

    def committed(self) -> bool:
        """Note a committed turn; True when that turn resumes the one before it."""
        resumed = self._answering is not None and self._answering.resumed
        self._answering = _Answering(committed_at=time.monotonic())
        return resumed

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        answering, session = self._answering, self._session
        if ev.new_state != "speaking" or answering is None or session is None:
            return
        if time.monotonic() - answering.committed_at > self.window or answering.resumed:
            return
        if session.agent_state not in ("thinking", "speaking"):
            return
        answering.resumed = True
        # a reply that must not be interrupted (none today) keeps playing
        with contextlib.suppress(RuntimeError):
            session.interrupt()


def fold_resumed_turn(
    history: llm.ChatContext, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
) -> llm.ChatContext | None:
    """The history without the first part and its dropped reply, with new_message carrying the
    whole question; turn_ctx is edited to match. None when there is no earlier user message."""
    items = history.items
    first = next(
        (
            i
            for i in range(len(items) - 1, -1, -1)
            if isinstance(items[i], llm.ChatMessage) and items[i].role == "user"  # type: ignore[union-attr]
        ),
        None,
    )
    if first is None:
        return None
    first_part = items[first]
    assert isinstance(first_part, llm.ChatMessage)
    dropped = {first_part.id} | {
        item.id
        for item in items[first + 1 :]
        if isinstance(item, llm.ChatMessage) and item.role == "assistant"
    }
    whole = " ".join(t for t in (first_part.text_content, new_message.text_content) if t)
    new_message.content = [whole]
    turn_ctx.items[:] = [item for item in turn_ctx.items if item.id not in dropped]
    folded = history.copy()
    folded.items[:] = [item for item in folded.items if item.id not in dropped]
    return folded
