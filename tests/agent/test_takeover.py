"""An agent sent to take over a lost call knows it, and whom it replaces, from its dispatch
metadata."""

from __future__ import annotations

import json

import pytest

from agent.takeover import FailoverNote, failover_note, history
from meridian.contract import FAILOVER_METADATA
from meridian.conversation import CarriedMessage
from meridian.dispatch.failover import Failover


def _metadata(note: object) -> str:
    return json.dumps({FAILOVER_METADATA: note})


def test_a_failover_dispatch_names_the_agent_it_replaces() -> None:
    note = failover_note(_metadata({"attempt": 1, "failed": ["eu-west"], "lost": "agent-AJ_1"}))
    assert note == FailoverNote(attempt=1, failed=("eu-west",), lost="agent-AJ_1")


def test_the_agent_reads_the_note_dispatch_writes() -> None:
    metadata = Failover("call", "us-east", 2, ("eu-west", "ap-southeast"), "agent-AJ_1").metadata()
    assert failover_note(metadata) == FailoverNote(2, ("eu-west", "ap-southeast"), "agent-AJ_1")


def test_the_agent_that_takes_over_starts_from_the_conversation_so_far() -> None:
    said = (CarriedMessage("user", "Where is my parcel?"), CarriedMessage("assistant", "In Lyon."))
    note = failover_note(Failover("call", "us-east", 1, ("eu-west",), "a", said).metadata())
    assert note is not None and note.conversation == said
    chat_ctx = history(note.conversation)
    assert [(m.role, m.text_content) for m in chat_ctx.items] == [
        ("user", "Where is my parcel?"),
        ("assistant", "In Lyon."),
    ]


def test_a_failover_dispatch_without_a_lost_agent_still_takes_over() -> None:
    assert failover_note(_metadata({"attempt": 2, "failed": ["eu-west"]})) == FailoverNote(
        attempt=2, failed=("eu-west",), lost=""
    )


@pytest.mark.parametrize("note", [{"attempt": "two", "failed": "eu-west"}, {}])
def test_odd_fields_in_a_failover_note_fall_back_to_plain_values(note: dict) -> None:
    assert failover_note(_metadata(note)) == FailoverNote(attempt=1, failed=(), lost="")


@pytest.mark.parametrize(
    "metadata", ["", "not json", "[1]", '{"meridian.smoke_test": true}', _metadata("yes")]
)
def test_any_other_job_is_a_new_call(metadata: str) -> None:
    assert failover_note(metadata) is None
