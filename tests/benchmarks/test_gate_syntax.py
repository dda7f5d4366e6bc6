"""The syntax model tried for the turn gate: what it reads from fixed transcripts of each clause
type, and how its threshold is chosen."""

from __future__ import annotations

import pytest

from benchmarks.gate_syntax import SyntaxCompleteness, fast_threshold, tokens_of


@pytest.fixture(scope="module")
def model() -> SyntaxCompleteness:
    return SyntaxCompleteness()


@pytest.mark.parametrize(
    ("text", "last"),
    [
        ("The manager says that", "preposition"),  # complementizer
        ("Can you tell me whether", "preposition"),
        ("Is there a store in Dublin where", "wh"),  # relative adverb
        ("I spoke to an agent who", "wh"),  # relative pronoun
        ("I want to change my address and", "conjunction"),
        ("Can you send the invoice to", "to"),
        ("My phone number is 0 7 7", "number"),
    ],
)
def test_the_last_word_class_comes_from_the_tagger(
    model: SyntaxCompleteness, text: str, last: str
) -> None:
    features = model.features(text)
    assert features is not None and features.last == last


def test_a_fronted_subordinate_clause_lacks_its_main_clause(model: SyntaxCompleteness) -> None:
    assert model.features("If I pay by card").main_clause_missing  # type: ignore[union-attr]
    assert not model.features("If I pay by card is there a fee").main_clause_missing  # type: ignore[union-attr]


def test_a_wh_question_is_not_read_as_a_subordinate_clause(model: SyntaxCompleteness) -> None:
    f = model.features("When will my laptop arrive")
    assert f is not None and f.question and not f.main_clause_missing


def test_a_time_phrase_alone_has_no_finite_verb(model: SyntaxCompleteness) -> None:
    assert model.features("Every time").no_finite_verb  # type: ignore[union-attr]
    assert not model.features("It crashes every day").no_finite_verb  # type: ignore[union-attr]


def test_a_series_is_open_until_its_and(model: SyntaxCompleteness) -> None:
    assert model.features("I need a charger, a case").open_series  # type: ignore[union-attr]
    assert not model.features("I need a charger, a case and a cable").open_series  # type: ignore[union-attr]


def test_dictated_digits_are_counted_up_to_four(model: SyntaxCompleteness) -> None:
    assert model.features("My number is 5 5").digits == 2  # type: ignore[union-attr]
    assert model.features("My number is 5 5 5 0 1 2").digits == 4  # type: ignore[union-attr]


def test_contractions_are_split_as_the_treebank_does() -> None:
    assert tokens_of("I don't know, I'd say,") == ["I", "do", "n't", "know", ",", "I", "'d", "say"]


def test_the_threshold_keeps_sixty_percent_of_finished_questions_fast() -> None:
    assert fast_threshold([0.1, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99]) == 0.65


def test_a_verb_then_a_final_preposition_is_its_own_signal(model: SyntaxCompleteness) -> None:
    f = model.features("The laptop keeps cutting out")
    assert f is not None and f.vector()[-1] == 1.0


def test_an_imperative_has_its_verb(model: SyntaxCompleteness) -> None:
    assert not model.features("Please renew my order").no_finite_verb  # type: ignore[union-attr]
