"""The turn gate's generalisation corpus: split by template family, every clause type in both
halves, spoken by two engines and eight voices, and replayed against the VAD's lag."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import numpy as np
import pytest

from agent.server import load_local_models
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks.floor import ModelLatencies
from benchmarks.gate_corpus import (
    FAMILIES,
    FITTED_FAMILIES,
    FRESH_FAMILIES,
    Utterance,
    split_of,
    utterances,
)
from benchmarks.gate_generalisation import PAUSES, Heard, replay
from benchmarks.gate_speech import Spoken, heard_at_pause, mu_law_decode, mu_law_encode, spoken
from benchmarks.gate_speech import vad_lag as measure_vad_lag

UNFINISHED_CLAUSES = {
    "subordinate",
    "relative",
    "complement",
    "coordination",
    "preposition",
    "time",
    "number",
    "date",
    "address",
    "list",
    "opener",
}


def test_no_report_utterance_shares_a_template_family_with_a_fitted_one() -> None:
    halves = defaultdict(set)
    for u in utterances():
        halves[u.split].add(u.family)
    assert halves["fit"] and halves["report"]
    assert not halves["fit"] & halves["report"]


def test_every_clause_type_is_in_both_halves_through_different_families() -> None:
    for split in ("fit", "report"):
        clauses = {u.clause for u in utterances() if u.split == split and u.label == "unfinished"}
        assert clauses == UNFINISHED_CLAUSES, split


def test_hundreds_of_distinct_unfinished_prefixes_and_as_many_finished_questions() -> None:
    by_label = defaultdict(set)
    for u in utterances():
        by_label[u.label].add(u.heard)
    assert len(by_label["unfinished"]) >= 250
    assert len(by_label["finished"]) >= 0.9 * len(by_label["unfinished"])


def test_an_unfinished_prefix_is_what_comes_before_the_pause_of_its_whole_question() -> None:
    for u in utterances():
        if u.label == "unfinished":
            assert u.whole.startswith(u.heard) and len(u.whole) > len(u.heard)
        else:
            assert u.whole == u.heard


def test_the_fresh_families_are_reported_and_the_others_fitted() -> None:
    assert {split_of(f) for f in FRESH_FAMILIES} == {"report"}
    assert {split_of(f) for f in FITTED_FAMILIES} == {"fit"}
    assert set(FAMILIES) <= set(FITTED_FAMILIES)


def test_every_utterance_is_spoken_by_one_of_eight_voices_of_two_engines() -> None:
    items = spoken()
    assert [s.utterance for s in items] == list(utterances())
    assert {s.engine for s in items} == {"flite", "espeak-ng"}
    assert len({(s.engine, s.voice) for s in items}) == 8


def test_each_family_is_heard_in_several_voices() -> None:
    voices = defaultdict(set)
    for s in spoken():
        voices[s.utterance.family].add(s.voice)
    assert min(len(v) for v in voices.values()) >= 2


def test_mu_law_keeps_speech_within_a_few_percent() -> None:
    samples = (8000 * np.sin(np.linspace(0, 200, 16000))).astype(np.int16)
    decoded = mu_law_decode(mu_law_encode(samples))
    error = np.abs(decoded.astype(np.int32) - samples).max()
    assert error <= 0.04 * 8000


def test_the_agents_vad_places_the_end_of_a_spoken_prefix_near_the_true_end() -> None:
    load_local_models()
    samples, end = heard_at_pause(spoken()[0].samples, seed=0)
    lag = asyncio.run(measure_vad_lag(samples, end))
    assert lag is not None and 0 <= lag <= 0.2


def _heard(label: str, lag: float, score: float) -> Heard:
    u = Utterance("family", "time", label, "Every time", "Every time I call", "report")  # type: ignore[arg-type]
    return Heard(Spoken(u, "flite", "slt", np.zeros(1, np.int16)), lag, {"gate": score})


def test_a_prefix_read_as_finished_is_cut_into_by_every_pause_longer_than_lag_plus_wait() -> None:
    point = replay([_heard("unfinished", 0.1, 0.99)], "gate", 0.9, ModelLatencies())
    wait = DEFAULT_TURN_SETTINGS.gate.finished_delay
    assert point.cut_ins == sum(p > 0.1 + wait for p in PAUSES)
    assert point.pauses == len(PAUSES)


def test_a_prefix_read_as_unfinished_is_never_cut_into_by_pauses_up_to_1200_ms() -> None:
    point = replay([_heard("unfinished", 0.1, 0.2)], "gate", 0.9, ModelLatencies())
    assert point.cut_ins == 0


@pytest.mark.parametrize(("score", "slower"), [(0.99, False), (0.2, True)])
def test_a_finished_question_read_as_unfinished_waits_the_long_delay(
    score: float, slower: bool
) -> None:
    fast = replay([_heard("finished", 0.1, 0.99)], "gate", 0.9, ModelLatencies()).e2e_p50
    this = replay([_heard("finished", 0.1, score)], "gate", 0.9, ModelLatencies()).e2e_p50
    assert fast is not None and this is not None
    assert (this > fast) is slower
