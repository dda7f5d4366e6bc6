"""The real-media capacity section: what a caller heard in a turn, and when a load level holds."""

from __future__ import annotations

import json

import pytest

from benchmarks.media_capacity import GAP_LIMIT, OVERHEAD_LIMIT, MediaPhase, Turn, write_results


def _phase(**changes: object) -> MediaPhase:
    values: dict[str, object] = {
        "sessions": 4,
        "turns": 12,
        "answered": 12,
        "e2e_p50": 0.55,
        "e2e_p95": 0.56,
        "heard_p50": 0.75,
        "heard_p95": 0.8,
        "gap_p95": 0.02,
        "worker_cpu_per_session": 0.15,
        "worker_pss_per_session_mb": 200.0,
        "server_cpu": 0.1,
        "callers_cpu": 0.5,
    }
    values.update(changes)
    return MediaPhase(**values)  # type: ignore[arg-type]


def test_a_turn_is_heard_at_its_first_loud_frame_after_the_question() -> None:
    assert Turn(question_end=10.0, loud=[10.7, 10.72, 10.74]).heard == pytest.approx(0.7)


def test_a_turn_without_a_loud_frame_was_not_answered() -> None:
    assert Turn(question_end=10.0).heard is None


def test_the_gap_in_a_reply_is_the_longest_silence_between_its_frames() -> None:
    # 20 ms frames: 10.74 -> 10.94 leaves 180 ms of silence
    assert Turn(10.0, [10.7, 10.72, 10.74, 10.94]).longest_gap == pytest.approx(0.18)


def test_a_level_holds_within_the_overhead_and_gap_limits() -> None:
    assert _phase().holds(baseline_e2e=0.55)


def test_a_level_with_an_unanswered_question_does_not_hold() -> None:
    assert not _phase(answered=11).holds(baseline_e2e=0.55)


def test_a_level_whose_e2e_p95_passes_the_baseline_by_more_than_the_limit_does_not_hold() -> None:
    assert not _phase(e2e_p95=0.55 + OVERHEAD_LIMIT + 0.01).holds(baseline_e2e=0.55)


def test_a_level_whose_replies_stutter_does_not_hold() -> None:
    assert not _phase(gap_p95=GAP_LIMIT + 0.01).holds(baseline_e2e=0.55)


def test_the_baseline_and_every_level_are_written_as_json(tmp_path) -> None:
    write_results(_phase(sessions=1), [_phase()], tmp_path / "media.json")
    written = json.loads((tmp_path / "media.json").read_text())
    assert written["baseline"]["sessions"] == 1
    assert [level["sessions"] for level in written["ramp"]] == [4]
