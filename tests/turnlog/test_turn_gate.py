"""Specification of the latency report's turn-gate statistics: the `turn` event's gate fields
(gate_verdict, gate_score, endpointing_delay, resumed), per region, in every output format."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest

from meridian.turnlog import cli
from meridian.turnlog.events import parse_text
from meridian.turnlog.stats import RegionLatency, by_region


def turn(region: str = "eu-west", **fields: Any) -> str:
    """One `turn` log line as the agent writes it, with the given fields on top."""
    return json.dumps({"event": "turn", "region": region, "e2e_latency": 1.0, **fields})


def gated(
    verdict: str | None,
    delay: float | None = 0.4,
    *,
    region: str = "eu-west",
    score: float | None = 0.5,
    resumed: bool = False,
    e2e: float | None = 1.0,
) -> str:
    """A `turn` line from an agent with the turn gate: all four gate fields present."""
    return json.dumps(
        {
            "event": "turn",
            "region": region,
            "e2e_latency": e2e,
            "gate_verdict": verdict,
            "gate_score": score,
            "endpointing_delay": delay,
            "resumed": resumed,
        }
    )


def regions(*lines: str) -> dict[str, RegionLatency]:
    """The report's per-region statistics of these log lines, by region name."""
    return {r.region: r for r in by_region(parse_text("\n".join(lines), "log").turns)}


def report(*args: str, lines: list[str]) -> str:
    """The report's standard output for these log lines on stdin."""
    out = io.StringIO()
    code = cli.main(["-", *args], stdin=io.StringIO("\n".join(lines)), stdout=out)
    assert code == 0
    return out.getvalue()


GATE_LOG = [
    gated("finished", 0.3, region="eu-west", e2e=0.9),
    gated("finished", 0.3, region="eu-west", e2e=0.9),
    gated("unfinished", 1.2, region="eu-west", e2e=1.8),
    gated("unfinished", 1.6, region="eu-west", e2e=2.2, resumed=True),
    gated("no_text_model", 0.8, region="us-east", score=None, e2e=1.4),
]


# --- parsing ---


def test_gate_fields_are_read_from_a_turn_event() -> None:
    line = gated("unfinished", 1.6, score=0.42, resumed=True)
    (parsed,) = parse_text(line, "log").turns
    assert (parsed.gate_logged, parsed.gate_verdict, parsed.gate_score) == (
        True,
        "unfinished",
        0.42,
    )
    assert (parsed.endpointing_delay, parsed.resumed) == (1.6, True)


def test_old_lines_without_gate_fields_still_parse_with_no_gate_info() -> None:
    result = parse_text(turn(cache_hit=True), "log")
    (parsed,) = result.turns
    assert result.malformed == 0
    assert parsed.gate_logged is False
    assert (parsed.gate_verdict, parsed.gate_score, parsed.endpointing_delay, parsed.resumed) == (
        None,
        None,
        None,
        None,
    )


def test_a_null_verdict_is_a_logged_turn_the_gate_did_not_end() -> None:
    (parsed,) = parse_text(gated(None, None, score=None), "log").turns
    assert parsed.gate_logged is True
    assert parsed.gate_verdict is None


@pytest.mark.parametrize("verdict", ["unsure", "maybe", "FINISHED", "", 1, True, ["finished"]])
def test_an_unknown_verdict_makes_the_record_malformed(verdict: object) -> None:
    result = parse_text(turn(gate_verdict=verdict), "log")
    assert result.turns == []
    assert result.malformed_reasons == {"gate_verdict is not a known verdict": 1}


@pytest.mark.parametrize("score", [1.5, -0.01, math.nan, math.inf])
def test_a_gate_score_outside_0_to_1_makes_the_record_malformed(score: float) -> None:
    result = parse_text(turn(gate_verdict="finished", gate_score=score), "log")
    assert result.turns == []
    assert result.malformed_reasons == {"gate_score is outside 0..1": 1}


@pytest.mark.parametrize("score", ["0.9", True])
def test_a_gate_score_that_is_not_a_number_makes_the_record_malformed(score: object) -> None:
    result = parse_text(turn(gate_verdict="finished", gate_score=score), "log")
    assert result.malformed_reasons == {"gate_score is not a number": 1}


def test_a_negative_endpointing_delay_makes_the_record_malformed() -> None:
    result = parse_text(turn(gate_verdict="finished", endpointing_delay=-0.3), "log")
    assert result.turns == []
    assert result.malformed_reasons == {"endpointing_delay is negative or not finite": 1}


@pytest.mark.parametrize("resumed", ["yes", 1, 0])
def test_resumed_that_is_not_true_or_false_makes_the_record_malformed(resumed: object) -> None:
    result = parse_text(turn(gate_verdict="finished", resumed=resumed), "log")
    assert result.malformed_reasons == {"resumed is not true/false": 1}


def test_a_bad_gate_line_is_skipped_and_the_good_lines_around_it_are_kept() -> None:
    lines = [gated("finished"), turn(gate_verdict="done"), gated("unfinished")]
    result = parse_text("\n".join(lines), "log")
    assert [t.gate_verdict for t in result.turns] == ["finished", "unfinished"]
    assert result.malformed == 1


def test_projected_csv_columns_carry_the_gate_fields() -> None:
    text = (
        "event,region,e2e_latency,gate_verdict,gate_score,endpointing_delay,resumed\n"
        "turn,eu-west,1.1,unfinished,0.08,1.2,True\n"
    )
    (parsed,) = parse_text(text, "export.csv").turns
    assert (parsed.gate_verdict, parsed.gate_score, parsed.endpointing_delay, parsed.resumed) == (
        "unfinished",
        0.08,
        1.2,
        True,
    )


def test_projected_csv_with_empty_gate_cells_is_an_old_line_not_an_ungated_turn() -> None:
    text = (
        "event,region,e2e_latency,gate_verdict,gate_score,endpointing_delay,resumed\n"
        "turn,eu-west,1.1,,,,\n"
        "turn,eu-west,1.3,,,,false\n"
    )
    old, ungated = parse_text(text, "export.csv").turns
    assert (old.gate_logged, old.gate_verdict) == (False, None)
    assert (ungated.gate_logged, ungated.gate_verdict, ungated.resumed) == (True, None, False)


# --- per-region statistics ---


def test_verdicts_are_counted_per_region() -> None:
    stats = regions(
        gated("finished", region="eu-west"),
        gated("finished", region="eu-west"),
        gated("unfinished", region="eu-west"),
        gated("unfinished", region="us-east"),
        gated("no_text_model", region="us-east"),
    )
    verdicts = ("finished", "unfinished", "no_text_model")
    counts = {
        name: {o: stats[name].gate.outcomes[o].turns for o in verdicts}
        for name in ("eu-west", "us-east")
    }
    assert counts == {
        "eu-west": {"finished": 2, "unfinished": 1, "no_text_model": 0},
        "us-east": {"finished": 0, "unfinished": 1, "no_text_model": 1},
    }


def test_the_all_entry_counts_every_regions_verdicts() -> None:
    stats = regions(gated("finished", region="eu-west"), gated("finished", region="us-east"))
    assert stats["all"].gate.outcomes["finished"].turns == 2


def test_verdict_shares_are_of_the_regions_turns_with_gate_fields() -> None:
    gate = regions(gated("finished"), gated("finished"), gated("finished"), gated("unfinished"))[
        "eu-west"
    ].gate
    assert gate.outcomes["finished"].share == pytest.approx(0.75)
    assert gate.outcomes["unfinished"].share == pytest.approx(0.25)
    assert gate.outcomes["no_text_model"].share == 0.0
    assert gate.total.share == 1.0


def test_turns_the_gate_did_not_end_are_their_own_outcome_with_a_share() -> None:
    gate = regions(gated("finished"), gated(None, None, score=None))["eu-west"].gate
    assert gate.outcomes["not_gated"].turns == 1
    assert gate.outcomes["not_gated"].share == pytest.approx(0.5)


def test_old_lines_are_counted_apart_and_leave_the_shares_alone() -> None:
    gate = regions(turn(), turn(), gated("finished"), gated("unfinished"))["eu-west"].gate
    assert gate.unlogged == 2
    assert gate.total.turns == 2
    assert gate.outcomes["not_gated"].turns == 0
    assert gate.outcomes["finished"].share == pytest.approx(0.5)


def test_a_region_with_only_old_lines_has_no_gate_shares() -> None:
    gate = regions(turn(), turn())["eu-west"].gate
    assert (gate.unlogged, gate.total.turns) == (2, 0)
    assert gate.outcomes["finished"].share is None
    assert gate.total.resumed_rate is None


def test_resumed_turns_are_counted_with_their_share_per_region() -> None:
    gate = regions(
        gated("finished", resumed=True),
        gated("unfinished"),
        gated("unfinished"),
        gated("unfinished"),
    )["eu-west"].gate
    assert (gate.total.resumed, gate.total.resumed_known) == (1, 4)
    assert gate.total.resumed_rate == pytest.approx(0.25)


def test_resumed_turns_are_also_counted_per_verdict() -> None:
    gate = regions(gated("finished", resumed=True), gated("unfinished"))["eu-west"].gate
    assert gate.outcomes["finished"].resumed == 1
    assert gate.outcomes["unfinished"].resumed == 0


def test_the_median_chosen_wait_is_reported_per_verdict_in_ms() -> None:
    gate = regions(gated("finished", 0.2), gated("finished", 0.4), gated("unfinished", 1.2))[
        "eu-west"
    ].gate
    assert gate.outcomes["finished"].endpointing_delay.p50 == pytest.approx(300)
    assert gate.outcomes["unfinished"].endpointing_delay.p50 == pytest.approx(1200)
    assert gate.outcomes["no_text_model"].endpointing_delay.p50 is None


def test_e2e_p50_is_reported_per_verdict() -> None:
    gate = regions(
        gated("finished", e2e=0.6), gated("finished", e2e=0.8), gated("unfinished", e2e=1.1)
    )["eu-west"].gate
    assert gate.outcomes["finished"].e2e.p50 == pytest.approx(700)
    assert gate.outcomes["unfinished"].e2e.p50 == pytest.approx(1100)


def test_a_verdict_without_e2e_has_no_e2e_p50() -> None:
    gate = regions(gated("finished", e2e=None))["eu-west"].gate
    assert gate.outcomes["finished"].turns == 1
    assert gate.outcomes["finished"].e2e.p50 is None


# --- the report ---


def test_terminal_report_has_a_turn_gate_table_with_a_row_per_region_and_verdict() -> None:
    out = report(lines=GATE_LOG)
    table = out[out.index("Turn gate") :]
    header = "region   verdict        turns  share  wait p50  e2e p50  resumed  resumed %"
    assert header in table
    assert "eu-west  finished           2    50%       300      900        0         0%" in table
    assert "eu-west  unfinished         2    50%      1400     2000        1        50%" in table
    assert "eu-west  total              4   100%       750     1350        1        25%" in table
    assert "us-east  no_text_model      1   100%       800     1400        0         0%" in table


def test_markdown_report_has_the_turn_gate_table_in_markdown() -> None:
    out = report("--markdown", lines=GATE_LOG)
    assert "### Turn gate: verdicts, chosen wait and e2e (ms), resumed turns" in out
    assert "| region | verdict | turns | share | wait p50 | e2e p50 | resumed | resumed % |" in out
    assert "| all | unfinished | 2 | 40% | 1400 | 2000 | 1 | 50% |" in out


def test_the_not_gated_row_appears_only_when_some_turn_was_not_ended_by_the_gate() -> None:
    assert "not_gated" not in report(lines=GATE_LOG)
    assert "eu-west  not_gated" in report(lines=[*GATE_LOG, gated(None, None, score=None)])


def test_old_lines_are_named_under_the_gate_table_as_left_out() -> None:
    out = report(lines=[*GATE_LOG, turn(), turn()])
    assert "2 turns without gate fields (logged before the turn gate) left out" in out


def test_a_log_from_before_the_gate_says_so_instead_of_an_empty_table() -> None:
    out = report(lines=[turn(), turn(region="us-east")])
    assert "no turn carries the gate fields (logged before the turn gate)" in out
    assert "wait p50" not in out


def test_json_report_holds_the_gate_numbers_per_region() -> None:
    document = json.loads(report("--json", lines=[*GATE_LOG, turn()]))
    gate = {r["region"]: r["gate"] for r in document["regions"]}["eu-west"]
    assert (gate["turns"], gate["turns_without_gate_info"]) == (4, 1)
    assert (gate["resumed"], gate["resumed_rate"]) == (1, 0.25)
    finished = gate["verdicts"]["finished"]
    assert (finished["turns"], finished["share"]) == (2, 0.5)
    assert finished["endpointing_delay_ms"]["p50"] == pytest.approx(300)
    assert finished["e2e_ms"]["p50"] == pytest.approx(900)
    assert set(gate["verdicts"]) == {
        "finished",
        "unfinished",
        "no_text_model",
        "not_gated",
    }
