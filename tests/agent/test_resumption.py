"""When the caller goes on after the agent has started answering a finished sentence: the agent
stops at once, drops its reply, and answers the whole question."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import pytest_asyncio

from agent.turn_gate import TurnGate
from benchmarks.clips import Clip, clips_of
from benchmarks.conversation import Conversation, Turn, Variant
from benchmarks.floor import ModelLatencies
from benchmarks.turn_taking import PausedOutcome

pytestmark = pytest.mark.asyncio(loop_scope="module")

# A reply of about 3.6 s, played at real time, so the caller's resume lands inside it.
SHIPPED = Variant("shipped", realtime_speaker=True, tts_seconds_per_char=0.02)


def _long_pause_sentence_clip():
    """A finished-sentence prefix the gate answers, with a pause long enough for the reply to
    start before the caller goes on."""
    gate = TurnGate()
    answered = [
        c
        for c in clips_of("paused", prefix="sentence")
        if gate.decide(c.segments[0].text, "en").verdict == "finished"
    ]
    return max(answered, key=lambda c: c.pause_ms or 0)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def resumed() -> tuple[Conversation, Turn]:
    conversation = Conversation(SHIPPED, ModelLatencies())
    await conversation.start()
    turn = await conversation.ask(_long_pause_sentence_clip(), timeout=15)
    yield conversation, turn
    await conversation.aclose()


async def test_the_agent_had_started_answering_the_first_part(resumed) -> None:
    _, turn = resumed
    first = turn.playouts[0]
    assert first.started_at is not None
    assert first.started_at < turn.spoken.segment_starts[1]


async def test_the_agent_stops_within_200_ms_of_the_caller_resuming(resumed) -> None:
    _, turn = resumed
    stop = PausedOutcome(turn).stop_after
    assert stop is not None and stop <= 0.200


async def test_the_early_reply_is_dropped(resumed) -> None:
    _, turn = resumed
    assert turn.playouts[0].interrupted
    assert turn.resumed


async def test_the_whole_question_is_answered_as_one_message(resumed) -> None:
    _, turn = resumed
    outcome = PausedOutcome(turn)
    assert outcome.answered_whole
    assert not outcome.words_lost
    assert not turn.playouts[-1].interrupted


async def test_the_dropped_reply_is_not_in_the_history(resumed) -> None:
    conversation, turn = resumed
    messages = [m for m in conversation.agent.chat_ctx.messages() if m.role != "system"]
    assert [m.role for m in messages[-2:]] == ["user", "assistant"]
    assert messages[-2].text_content == turn.spoken.clip.text


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def backchannelled() -> Turn:
    """A finished question, with "mm-hm" 2 s into the reply: after the resume window."""
    conversation = Conversation(SHIPPED, ModelLatencies())
    await conversation.start()
    question = clips_of("complete")[0]
    [mm_hm] = [c for c in clips_of("backchannel") if c.text == "mm-hm"]
    turn = await conversation.ask_over_reply(question, mm_hm, after=2.0)
    yield turn
    await conversation.aclose()


async def test_a_backchannel_later_in_a_reply_does_not_stop_it(backchannelled) -> None:
    reply = next(p for p in backchannelled.playouts if p.started_at)
    assert backchannelled.interjection is not None
    assert reply.stopped_at is not None
    assert reply.stopped_at > backchannelled.interjection.speech_end
    assert not reply.interrupted


async def test_a_backchannel_is_not_answered(backchannelled) -> None:
    assert len(backchannelled.llm_calls) == 1


def _wordless(clip: Clip) -> Clip:
    """The same sound with no transcript: a cough or a door, as the STT hears it."""
    [segment] = clip.segments
    return replace(clip, segments=(replace(segment, text=""),))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def coughed() -> Turn:
    """A finished question, with a wordless sound just after the reply starts."""
    conversation = Conversation(SHIPPED, ModelLatencies())
    await conversation.start()
    question = clips_of("complete")[1]
    noise = _wordless(clips_of("backchannel")[0])
    turn = await conversation.ask_over_reply(question, noise, after=0.2)
    yield turn
    await conversation.aclose()


async def test_a_wordless_sound_right_after_the_reply_starts_stops_it(coughed) -> None:
    first = next(p for p in coughed.playouts if p.started_at)
    assert first.interrupted


async def test_after_a_wordless_sound_the_question_is_answered_again(coughed) -> None:
    assert coughed.interjection is not None
    last = coughed.playouts[-1]
    assert last.started_at is not None
    assert last.started_at > coughed.interjection.speech_end
    assert not last.interrupted
    assert coughed.llm_calls[-1].user_text == coughed.spoken.clip.text


# An STT whose finals come later than a second after speech ends (a slow hosted model, or a
# long endpointing setting): the resumed speech has words, they just arrive late.
SLOW_STT = ModelLatencies(stt_final=1.6)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def resumed_with_late_finals() -> tuple[Conversation, Turn]:
    """A finished question, then the caller goes on just after the reply starts; the STT's
    finals arrive 1.6 s after each segment ends."""
    conversation = Conversation(SHIPPED, SLOW_STT)
    await conversation.start()
    question, more = clips_of("complete")[2], clips_of("complete")[3]
    turn = await conversation.ask_over_reply(question, more, after=0.2, timeout=20)
    yield conversation, turn
    await conversation.aclose()


async def test_with_late_finals_the_resumed_question_is_answered_once_as_one(
    resumed_with_late_finals,
) -> None:
    _, turn = resumed_with_late_finals
    assert turn.interjection is not None
    after = turn.interjection.started
    asked = [c.user_text for c in turn.llm_calls if c.started_at > after]
    # the first part is not answered again (a preemptive guess at the second part alone, before
    # the fold, may be started and dropped: it is never voiced)
    assert turn.spoken.clip.text not in asked
    assert asked[-1] == f"{turn.spoken.clip.text} {turn.interjection.clip.text}"
    voiced = [p for p in turn.playouts if p.started_at is not None and p.started_at > after]
    assert len(voiced) == 1
    assert not voiced[0].interrupted


async def test_with_late_finals_the_dropped_reply_is_not_in_the_history(
    resumed_with_late_finals,
) -> None:
    conversation, turn = resumed_with_late_finals
    assert turn.interjection is not None
    messages = [m for m in conversation.agent.chat_ctx.messages() if m.role != "system"]
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].text_content == f"{turn.spoken.clip.text} {turn.interjection.clip.text}"


async def _agent_starts_speaking(session) -> None:
    loop = asyncio.get_running_loop()
    speaking: asyncio.Future[None] = loop.create_future()

    def on_state(ev) -> None:
        if ev.new_state == "speaking" and not speaking.done():
            speaking.set_result(None)

    session.on("agent_state_changed", on_state)
    try:
        if session.agent_state != "speaking":
            await speaking
    finally:
        session.off("agent_state_changed", on_state)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def resumed_with_a_final_later_than_any_before() -> tuple[Conversation, Turn]:
    """As above, but the resumed speech's final comes later than the STT has ever been (1 s for
    the question, 3 s for what the caller adds), so the question is answered again first."""
    conversation = Conversation(SHIPPED, ModelLatencies(stt_final=1.0))
    await conversation.start()
    question, more = clips_of("complete")[4], clips_of("complete")[5]
    asking = asyncio.ensure_future(
        conversation.ask_over_reply(question, more, after=0.2, timeout=20)
    )
    await asyncio.wait_for(_agent_starts_speaking(conversation.session), 20)
    conversation.stt.latency = 3.0  # the question's final is out; the next one is slow
    turn = await asyncio.wait_for(asking, 30)
    yield conversation, turn
    await conversation.aclose()


async def test_a_final_later_than_any_before_stops_the_repeat_and_folds(
    resumed_with_a_final_later_than_any_before,
) -> None:
    conversation, turn = resumed_with_a_final_later_than_any_before
    assert turn.interjection is not None
    after = turn.interjection.started
    asked = [c.user_text for c in turn.llm_calls if c.started_at > after]
    whole = f"{turn.spoken.clip.text} {turn.interjection.clip.text}"
    assert turn.spoken.clip.text in asked  # answered again while no words had come
    assert asked[-1] == whole
    assert not turn.playouts[-1].interrupted
    messages = [m for m in conversation.agent.chat_ctx.messages() if m.role != "system"]
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].text_content == whole


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def coughed_then_asked() -> tuple[Turn, Turn]:
    """A wordless sound right after the reply starts, then, once the question has been answered
    again, a new question."""
    conversation = Conversation(SHIPPED, ModelLatencies())
    await conversation.start()
    noise = _wordless(clips_of("backchannel")[1])
    coughed = await conversation.ask_over_reply(clips_of("complete")[6], noise, after=0.2)
    asked = await conversation.ask(clips_of("complete")[7], timeout=15)
    yield coughed, asked
    await conversation.aclose()


async def test_a_new_question_after_the_repeated_answer_is_answered_on_its_own(
    coughed_then_asked,
) -> None:
    _, asked = coughed_then_asked
    assert asked.llm_calls[-1].user_text == asked.spoken.clip.text
    assert not asked.resumed
