"""Folding a resumed question: the first part joins the rest, the reply to it is dropped."""

from __future__ import annotations

from livekit.agents import llm

from agent.resumption import fold_resumed_turn


def _history(*turns: tuple[str, str]) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    for role, text in turns:
        ctx.add_message(role=role, content=text)  # type: ignore[arg-type]
    return ctx


def test_folding_joins_the_first_part_and_drops_the_reply_to_it() -> None:
    history = _history(
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "I bought a laptop"),
        ("assistant", "Sure"),
    )
    turn_ctx = history.copy()
    new = llm.ChatMessage(role="user", content=["and the screen keeps flickering"])
    folded = fold_resumed_turn(history, turn_ctx, new)
    assert folded is not None
    assert [m.text_content for m in folded.messages()] == ["Hi", "Hello!"]
    assert [m.text_content for m in turn_ctx.messages()] == ["Hi", "Hello!"]
    assert new.text_content == "I bought a laptop and the screen keeps flickering"


def test_folding_without_an_earlier_question_changes_nothing() -> None:
    new = llm.ChatMessage(role="user", content=["hello"])
    assert fold_resumed_turn(_history(), _history(), new) is None
    assert new.text_content == "hello"
