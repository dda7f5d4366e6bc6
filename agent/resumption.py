"""When the caller goes on after the agent has started answering: stop, drop, answer the whole.

A fast turn gate sometimes answers a finished sentence that was only the start of a question
("I bought a laptop ... and the screen keeps flickering"). Speech that starts within
`window` seconds of the turn being committed, while the reply to it is still pending or playing,
is the caller resuming, not a barge-in on a long answer: the reply stops at once, without the
barge-in minimums (half a second of speech, two words) that keep "mm-hm" from stopping a reply
later on, and the next turn is answered as one question with the first part, the dropped reply
removed from the history. If that speech turns out to have no words (a cough, a door), the
question is answered again.

"No words" can only mean "no final transcript yet", so the wait for one follows the STT: at least
`wordless_after` seconds after the speech ends, and longer than the slowest final this session's
STT has delivered after speech ended. Should a final with words still come after the question was
answered again, and before the caller speaks anew, it belongs to the resumed speech: the repeated
answer stops and the whole question is answered, folded, as if the final had been on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from livekit.agents import AgentSession, UserInputTranscribedEvent, UserStateChangedEvent, llm


@dataclass
class _Answering:
    """The turn being answered: when it was committed and whether the caller resumed."""

    committed_at: float
    resumed: bool = False
    # the resumed speech has produced words, so a new turn is on its way
    heard_words: bool = False
    # the resumed speech seemed wordless, so the question is being answered again
    answered_again: bool = False


# A final transcript this long after speech ended still counts as the STT's lag, not as a stray.
MAX_FINAL_LAG = 5.0


class ResumeWatch:
    """Watches one session for the caller resuming right after a turn was committed."""

    def __init__(
        self, window: float, *, wordless_after: float = 1.0, final_margin: float = 0.5
    ) -> None:
        self.window = window
        # at least this long after resumed speech ends without a final transcript, it is noise
        self.wordless_after = wordless_after
        # and at least this much longer than the slowest final seen after speech ended
        self.final_margin = final_margin
        self._answering: _Answering | None = None
        self._session: AgentSession | None = None
        self._noise_check: asyncio.TimerHandle | None = None
        self._silent_since: float | None = None
        # the longest a final transcript has come after the caller's speech ended
        self.final_lag = 0.0

    def wordless_wait(self) -> float:
        """How long after resumed speech ends a missing final transcript means "no words"."""
        return max(self.wordless_after, self.final_lag + self.final_margin)

    def attach(self, session: AgentSession) -> None:
        """Start listening to the session's user state and transcripts."""
        self._session = session
        session.on("user_state_changed", self._on_user_state)
        session.on("user_input_transcribed", self._on_transcribed)

    def committed(self) -> bool:
        """Note a committed turn; True when that turn resumes the one before it."""
        resumed = self._answering is not None and self._answering.resumed
        self._cancel_noise_check()
        self._answering = _Answering(committed_at=time.monotonic())
        return resumed

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        self._silent_since = time.monotonic() if ev.new_state == "listening" else None
        answering, session = self._answering, self._session
        if answering is None or session is None:
            return
        if ev.new_state == "speaking" and answering.answered_again:
            # the caller speaks anew over the repeated answer: what follows is not the resumed
            # speech's late words, but a turn of its own
            answering.resumed = answering.answered_again = False
            return
        if ev.new_state == "listening" and answering.resumed and not answering.heard_words:
            self._cancel_noise_check()
            loop = asyncio.get_running_loop()
            self._noise_check = loop.call_later(self.wordless_wait(), self._answer_again, answering)
            return
        if ev.new_state != "speaking" or answering.resumed:
            return
        self._cancel_noise_check()
        if time.monotonic() - answering.committed_at > self.window:
            return
        if session.agent_state not in ("thinking", "speaking"):
            return
        answering.resumed = True
        # a reply that must not be interrupted (none today) keeps playing
        with contextlib.suppress(RuntimeError):
            session.interrupt()

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if not (ev.is_final and ev.transcript.strip()):
            return
        if self._silent_since is not None:
            lag = time.monotonic() - self._silent_since
            if lag <= MAX_FINAL_LAG:
                self.final_lag = max(self.final_lag, lag)
        answering = self._answering
        if answering is None or not answering.resumed or answering.heard_words:
            return
        answering.heard_words = True
        self._cancel_noise_check()
        if answering.answered_again and self._session is not None:
            # the words came after all: stop the repeated answer; the turn they make is folded
            with contextlib.suppress(RuntimeError):
                self._session.interrupt()

    def _answer_again(self, answering: _Answering) -> None:
        """The resumed speech had no words: answer the question it interrupted after all."""
        self._noise_check = None
        session = self._session
        if session is None or answering is not self._answering or answering.heard_words:
            return
        if session.user_state == "speaking":
            return
        # `resumed` stays set: late words, before the caller speaks anew, still fold
        answering.answered_again = True
        session.generate_reply()

    def _cancel_noise_check(self) -> None:
        if self._noise_check is not None:
            self._noise_check.cancel()
            self._noise_check = None


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
