"""The turn gate ships what benchmarks.gate_fit fits on the "fit" half, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from agent.completeness import DEFAULT_WEIGHTS, TextCompleteness
from agent.turn_gate import GateSettings
from benchmarks.gate_fit import _newton, auc, fast_threshold, fit_gate, held_out, of_split


def test_the_shipped_weights_and_threshold_are_the_fit_of_the_fit_half() -> None:
    fitted = fit_gate(TextCompleteness(), of_split("fit"))
    assert fitted.weights == DEFAULT_WEIGHTS
    assert fitted.threshold == GateSettings().finished_at


def test_the_fit_reads_only_the_fit_half() -> None:
    assert {ex.split for ex in of_split("fit")} == {"fit"}


def test_the_fit_half_holds_corpus_families_and_clips() -> None:
    sources = {ex.source for ex in of_split("fit")}
    assert any(s.startswith("paused_") for s in sources)
    assert {"because-clause", "fresh-while-clause", "second-comparative"} <= sources
    assert "ninth-fronted-clause" in sources and "tenth-fronted-clause" not in sources


def test_every_pause_of_a_paused_clip_is_an_example() -> None:
    labels = {ex.label for ex in of_split("report")}
    assert labels == {"finished", "sentence", "unfinished"}


def test_a_held_out_group_is_scored_by_a_model_fitted_without_it() -> None:
    x = np.array([[1.0, 1.0], [1.0, 0.5], [1.0, -1.0], [1.0, -0.5], [1.0, 2.0]])
    y = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    scores = held_out(x, y, ["a", "a", "b", "b", "c"], ridge=1.0)
    without_c = _newton(x[:4], y[:4], 1.0)
    assert scores[4] == pytest.approx(1 / (1 + np.exp(-x[4] @ without_c)))


def test_the_threshold_keeps_sixty_percent_of_finished_questions_fast() -> None:
    assert fast_threshold([0.1, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99]) == 0.65


def test_auc_counts_ties_as_half() -> None:
    assert auc([0.9, 0.5], [0.5, 0.1]) == 0.875
