"""The turn gate's text model: what it reads from the syntax of fixed transcripts, clause type by
clause type."""

from __future__ import annotations

import pytest

from agent.completeness import FEATURE_NAMES, TextCompleteness, tokens_of


@pytest.fixture(scope="module")
def model() -> TextCompleteness:
    return TextCompleteness()


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
    model: TextCompleteness, text: str, last: str
) -> None:
    features = model.features(text)
    assert features is not None and features.last == last


def test_a_fronted_subordinate_clause_lacks_its_main_clause(model: TextCompleteness) -> None:
    assert model.features("If I pay by card").main_clause_missing  # type: ignore[union-attr]
    assert not model.features("If I pay by card is there a fee").main_clause_missing  # type: ignore[union-attr]


def test_a_wh_question_is_not_read_as_a_subordinate_clause(model: TextCompleteness) -> None:
    f = model.features("When will my laptop arrive")
    assert f is not None and f.question and not f.main_clause_missing


def test_a_time_phrase_alone_has_no_finite_verb(model: TextCompleteness) -> None:
    assert model.features("Every time").no_finite_verb  # type: ignore[union-attr]
    assert not model.features("It crashes every day").no_finite_verb  # type: ignore[union-attr]


def test_a_series_is_open_until_its_and(model: TextCompleteness) -> None:
    assert model.features("I need a charger, a case").open_series  # type: ignore[union-attr]
    assert not model.features("I need a charger, a case and a cable").open_series  # type: ignore[union-attr]


def test_dictated_digits_are_counted_up_to_four(model: TextCompleteness) -> None:
    assert model.features("My number is 5 5").digits == 2  # type: ignore[union-attr]
    assert model.features("My number is 5 5 5 0 1 2").digits == 4  # type: ignore[union-attr]


def test_contractions_are_split_as_the_treebank_does() -> None:
    assert tokens_of("I don't know, I'd say,") == ["I", "do", "n't", "know", ",", "I", "'d", "say"]


def test_a_final_particle_after_its_verb_is_a_particle(model: TextCompleteness) -> None:
    for text in ("The laptop keeps cutting out", "My phone won't turn on", "Can you look it up"):
        f = model.features(text)
        assert f is not None and f.last == "particle", text


def test_a_verb_then_a_final_preposition_is_its_own_signal(model: TextCompleteness) -> None:
    f = model.features("Can you look into")
    assert f is not None and f.vector()[FEATURE_NAMES.index("verb_preposition")] == 1.0


def test_only_a_wh_question_strands_a_preposition(model: TextCompleteness) -> None:
    stranded = FEATURE_NAMES.index("stranded_preposition")
    assert model.features("Which plan am I on").vector()[stranded] == 1.0  # type: ignore[union-attr]
    assert model.features("Can you send it to").vector()[stranded] == 0.0  # type: ignore[union-attr]


def test_an_imperative_has_its_verb(model: TextCompleteness) -> None:
    assert not model.features("Please renew my order").no_finite_verb  # type: ignore[union-attr]


@pytest.mark.parametrize("word", ["Yes", "No", "Okay", "Mm-hm", "Thanks", "Billing"])
def test_a_one_word_answer_or_acknowledgement_is_finished(
    model: TextCompleteness, word: str
) -> None:
    f = model.features(word)
    assert f is not None and f.acknowledgement and model.score(f) == 1.0


@pytest.mark.parametrize("word", ["Um", "Well", "So", "And", "I"])
def test_a_hesitation_or_opener_alone_is_not_an_acknowledgement(
    model: TextCompleteness, word: str
) -> None:
    f = model.features(word)
    assert f is not None and not f.acknowledgement


def test_a_second_clause_after_a_comma_is_not_an_open_series(model: TextCompleteness) -> None:
    f = model.features("My package arrived damaged, what should I do")
    assert f is not None and not f.open_series


def test_a_how_or_why_question_does_not_strand_a_preposition(model: TextCompleteness) -> None:
    stranded = FEATURE_NAMES.index("stranded_preposition")
    assert model.features("Where did it ship from").vector()[stranded] == 1.0  # type: ignore[union-attr]
    assert model.features("How do I get to").vector()[stranded] == 0.0  # type: ignore[union-attr]


def test_a_date_said_whole_ends_on_its_ordinal(model: TextCompleteness) -> None:
    whole, open_ = model.features("It was due on April 18th"), model.features("It was due on the")
    assert whole is not None and whole.ordinal and whole.last == "adjective"
    assert open_ is not None and not open_.ordinal


def test_a_final_filler_means_the_caller_is_still_thinking(model: TextCompleteness) -> None:
    assert model.features("I need, um").filler  # type: ignore[union-attr]
    assert not model.features("It works well").filler  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["The app crashes the moment", "Every time", "by the time"])
def test_a_moment_after_a_determiner_is_a_conjunction_waiting_for_its_clause(
    model: TextCompleteness, text: str
) -> None:
    assert model.features(text).moment  # type: ignore[union-attr]


def test_a_moment_alone_is_not_that_conjunction(model: TextCompleteness) -> None:
    assert not model.features("It is time").moment  # type: ignore[union-attr]


def test_please_opens_a_request_whose_next_word_is_its_verb(model: TextCompleteness) -> None:
    f = model.features("Please transfer me to billing")
    assert f is not None and not f.no_finite_verb


def test_the_word_after_infinitival_to_before_a_particle_is_a_verb(
    model: TextCompleteness,
) -> None:
    f = model.features("I want to log out")
    assert f is not None and f.last == "particle"


def test_please_after_a_comma_closes_the_request_instead_of_opening_a_series(
    model: TextCompleteness,
) -> None:
    assert not model.features("Send me a new one, please").open_series  # type: ignore[union-attr]
    assert model.features("I can do Monday, Tuesday").open_series  # type: ignore[union-attr]


def test_an_opener_may_follow_a_focusing_adverb(model: TextCompleteness) -> None:
    f = model.features("Even if the flight is late")
    assert f is not None and f.main_clause_missing


def test_a_fragment_without_a_verb_is_not_a_clause_missing_its_main_clause(
    model: TextCompleteness,
) -> None:
    f = model.features("Of course")
    assert f is not None and f.no_finite_verb and not f.main_clause_missing


@pytest.mark.parametrize(
    "text",
    [
        "I'm surprised that the office",  # a complement clause still without its verb
        "The password that I set on Tuesday",  # a subject whose relative clause took the verb
        "The parcel that arrived yesterday",  # "that" between a noun and a verb is relative
        "The woman I spoke to yesterday",  # so is a pronoun subject there
        "Do you know where",
    ],
)
def test_a_clause_opened_inside_the_sentence_that_took_the_only_verb_is_short(
    model: TextCompleteness, text: str
) -> None:
    assert model.features(text).clause_short  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "I bought a laptop that stopped working",
        "I think that my order was sent twice",
        "Can you tell me what happened",
        "I like that one",  # "that" before no subject is not a complementizer
        "I told the manager I paid",  # a complement clause without "that" has its own verb
    ],
)
def test_a_sentence_with_a_verb_for_each_clause_is_not_short(
    model: TextCompleteness, text: str
) -> None:
    assert not model.features(text).clause_short  # type: ignore[union-attr]


def test_an_s_after_a_wh_word_is_is_not_a_possessive(model: TextCompleteness) -> None:
    f = model.features("What's the fee for")
    assert f is not None and f.question and f.wh_question


def test_a_participle_that_opens_a_condition_is_a_subordinator(model: TextCompleteness) -> None:
    f = model.features("Provided the order arrives by Tuesday")
    assert f is not None and f.main_clause_missing


def test_a_capitalised_auxiliary_first_is_not_a_name(model: TextCompleteness) -> None:
    f = model.features("Am I talking to a robot")
    assert f is not None and f.question


def test_a_participle_straight_after_its_subject_is_the_past_tense(
    model: TextCompleteness,
) -> None:
    f = model.features("Given that I paid in full")
    assert f is not None and f.main_clause_missing and not f.no_finite_verb


def test_an_s_after_a_demonstrative_is_is_not_a_possessive(model: TextCompleteness) -> None:
    # "That's" holds the main clause's verb, so the free relative after it is not short of one
    f = model.features("That's what I was worried about")
    assert f is not None and not f.clause_short


def test_the_word_after_a_modal_is_its_bare_verb(model: TextCompleteness) -> None:
    f = model.features("The doctor said I should rest")
    assert f is not None and f.last == "verb"


def test_a_verb_and_its_pronoun_after_a_comma_are_a_clause_not_a_series_item(
    model: TextCompleteness,
) -> None:
    assert not model.features("Perfect, thank you").open_series  # type: ignore[union-attr]
    assert model.features("I need the charger, the case").open_series  # type: ignore[union-attr]


def test_a_particle_coordinated_with_the_verbs_particle_is_a_particle(
    model: TextCompleteness,
) -> None:
    f = model.features("I tried turning it off and on")
    assert f is not None and f.last == "particle"


def test_a_particle_after_a_short_noun_phrase_object_is_a_particle(
    model: TextCompleteness,
) -> None:
    f = model.features("When can I pick the car up")
    assert f is not None and f.last == "particle"


def test_a_first_word_before_its_object_is_an_imperative_verb(model: TextCompleteness) -> None:
    f = model.features("Book the plumber for Monday morning")
    assert f is not None and not f.no_finite_verb


def test_a_long_verbless_noun_phrase_is_a_subject_waiting_for_its_verb(
    model: TextCompleteness,
) -> None:
    assert model.features("The tickets for the show on Monday").subject_without_verb  # type: ignore[union-attr]


def test_a_short_verbless_noun_phrase_can_be_a_whole_answer(model: TextCompleteness) -> None:
    f = model.features("The earlier one please")
    assert f is not None and f.no_finite_verb and not f.subject_without_verb


def test_once_before_a_subject_opens_a_clause(model: TextCompleteness) -> None:
    f = model.features("Once the car has been serviced")
    assert f is not None and f.main_clause_missing


def test_a_final_to_after_be_opens_an_infinitive_rather_than_stranding(
    model: TextCompleteness,
) -> None:
    stranded = FEATURE_NAMES.index("stranded_preposition")
    assert model.features("What's the best way to").vector()[stranded] == 0.0  # type: ignore[union-attr]
    assert model.features("Who should I talk to").vector()[stranded] == 1.0  # type: ignore[union-attr]


def test_a_final_subordinator_opens_a_clause_rather_than_stranding(
    model: TextCompleteness,
) -> None:
    stranded = FEATURE_NAMES.index("stranded_preposition")
    assert model.features("Where's the form that").vector()[stranded] == 0.0  # type: ignore[union-attr]


def test_a_comma_after_a_first_word_that_stands_alone_ends_a_lead_in_not_a_series_item(
    model: TextCompleteness,
) -> None:
    assert not model.features("Okay, great").open_series  # type: ignore[union-attr]
    assert model.features("Yes, the charger, the case").open_series  # type: ignore[union-attr]
