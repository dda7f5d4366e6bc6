"""FAQ matching: normalised text, a tunable fuzzy threshold, and a clear error for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.faq import Faq, FaqFileError, normalise
from agent.settings import DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD


@pytest.fixture(scope="module")
def faq() -> Faq:
    return Faq.load(DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD)


def test_normalising_drops_case_punctuation_and_fillers() -> None:
    assert normalise("Um, so WHAT'S your opening-hours… please?") == "whats your opening hours"


def test_a_variant_with_fillers_matches_its_entry(faq: Faq) -> None:
    found = faq.match("Uh, when are you open?")
    assert found is not None and found.entry.id == "opening-hours"


def test_a_close_paraphrase_matches_above_the_threshold(faq: Faq) -> None:
    found = faq.match("whats your opening hours")
    assert found is not None and found.entry.id == "opening-hours"
    assert DEFAULT_FAQ_THRESHOLD <= found.score < 100


def test_a_question_that_only_contains_a_variant_does_not_match(faq: Faq) -> None:
    assert faq.match("what are your opening hours on christmas day") is None


def test_an_unrelated_question_does_not_match(faq: Faq) -> None:
    assert faq.match("what is the weather in paris") is None


def test_a_lower_threshold_accepts_looser_matches() -> None:
    loose = Faq.load(DEFAULT_FAQ_PATH, 75)
    strict = Faq.load(DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD)
    assert strict.match("are you open") is None
    found = loose.match("are you open")
    assert found is not None and found.entry.id == "opening-hours"


def test_a_long_turn_is_rejected_without_scoring(faq: Faq) -> None:
    assert faq.match("what are your opening hours " * 10) is None


def test_every_shipped_answer_is_plain_speakable_text(faq: Faq) -> None:
    for entry in faq.entries:
        assert not any(mark in entry.answer for mark in ("*", "#", "http", "\n"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("entries: []", "entries: List should have at least 1 item"),
        ("entries:\n  - id: x\n    questions: [hi]\n    answer: a", "questions"),
        ("entries:\n  - id: Bad Id\n    questions: [q]\n    answer: a", "entries.0.id"),
        (
            "entries:\n  - {id: a, questions: [q], answer: x}\n  - {id: a, questions: [r], answer: y}",
            "duplicate id 'a'",
        ),
        ("entries: [", "not valid YAML"),
    ],
)
def test_a_malformed_faq_file_gives_one_line_naming_file_and_entry(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(content)
    with pytest.raises(FaqFileError) as caught:
        Faq.load(path, DEFAULT_FAQ_THRESHOLD)
    assert str(caught.value).startswith(f"FAQ file {path}: ")
    assert expected in str(caught.value)
