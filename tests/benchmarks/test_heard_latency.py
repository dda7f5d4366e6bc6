"""The heard-latency section fits the media path on one half of the clips and checks the agent's
logged estimate on the other."""

from __future__ import annotations

import json

import pytest

from benchmarks.heard_latency import HeardTurn, fitted_media_path, write_results


def _turn(split: str, heard: float, e2e: float, estimate: float | None = None) -> HeardTurn:
    return HeardTurn("clip", split, heard, None, e2e, False, estimate)


def test_the_media_path_is_the_median_gap_on_the_fit_half_only() -> None:
    turns = [
        _turn("fit", 0.70, 0.52),
        _turn("fit", 0.71, 0.53),
        _turn("fit", 0.90, 0.50),
        _turn("report", 2.0, 0.5),
    ]
    assert fitted_media_path(turns) == pytest.approx(0.18)


def test_the_estimate_error_is_what_the_agent_logged_minus_what_the_caller_heard() -> None:
    assert _turn("report", 0.70, 0.52, estimate=0.71).estimate_error == pytest.approx(0.01)
    assert _turn("report", 0.70, 0.52).estimate_error is None


def test_every_turn_is_written_as_json(tmp_path) -> None:
    write_results([_turn("report", 0.70, 0.52, estimate=0.69)], tmp_path / "heard.json")
    (written,) = json.loads((tmp_path / "heard.json").read_text())
    assert (written["split"], written["heard"], written["estimate"]) == ("report", 0.70, 0.69)
