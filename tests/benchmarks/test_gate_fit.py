"""The turn gate ships what benchmarks.gate_fit fits on the "fit" clips, and nothing else."""

from __future__ import annotations

from agent.completeness import DEFAULT_WEIGHTS, TextCompleteness
from agent.turn_gate import GateSettings
from benchmarks.gate_fit import auc, fit_gate, of_split, safe_threshold


def test_the_shipped_weights_and_threshold_are_the_fit_of_the_fit_clips() -> None:
    fitted = fit_gate(TextCompleteness(), of_split("fit"))
    assert fitted.weights == DEFAULT_WEIGHTS
    assert fitted.threshold == GateSettings().finished_at


def test_the_fit_reads_only_the_fit_clips() -> None:
    assert {ex.clip.split for ex in of_split("fit")} == {"fit"}


def test_every_pause_of_a_paused_clip_is_an_example() -> None:
    labels = {ex.label for ex in of_split("report")}
    assert labels == {"finished", "sentence", "unfinished"}


def test_the_safe_threshold_is_three_times_the_worst_odds() -> None:
    assert safe_threshold([0.25, 0.5]) == 0.75


def test_auc_counts_ties_as_half() -> None:
    assert auc([0.9, 0.5], [0.5, 0.1]) == 0.875
