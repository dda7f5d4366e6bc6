"""Specification of the latency report (turnlog, scripts/latency_report.py): parsing, stats, formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from meridian.turnlog import cli as latency_report
from meridian.turnlog.events import parse_text
from meridian.turnlog.stats import by_region, percentiles_ms
from tests.turnlog.log_samples import turn_lines

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(args: list[str], stdin_text: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = latency_report.main(args, stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.jsonl"
    path.write_text("\n".join(turn_lines(turns_per_region=60)) + "\n")
    return path


def test_json_lines_yield_one_turn_per_turn_event_and_ignore_other_events() -> None:
    result = parse_text("\n".join(turn_lines(turns_per_region=20)), "log")
    assert len(result.turns) == 60
    assert result.other_events == 1
    assert result.malformed == 0


def test_malformed_lines_are_counted_with_reasons_not_fatal() -> None:
    good = turn_lines(turns_per_region=5)[:3]
    bad = ["not json at all", "[1, 2]", '{"event": "turn", "llm_ttft": "slow"}']
    result = parse_text("\n".join([*good, *bad]), "log")
    assert len(result.turns) == 3
    assert result.malformed == 3
    assert result.malformed_reasons == {
        "not JSON": 1,
        "not a JSON object": 1,
        "llm_ttft is not a number": 1,
    }


def test_a_query_api_export_of_the_wrong_shape_yields_no_turns_and_no_crash() -> None:
    document = {"tables": [{"columns": ["Log_s"], "rows": [["x"]]}, "not a table"]}
    result = parse_text(json.dumps(document), "export.json")
    assert result.turns == []
    assert result.lines_read == 2


def test_negative_timing_is_malformed() -> None:
    result = parse_text('{"event": "turn", "region": "eu-west", "e2e_latency": -0.2}', "log")
    assert result.turns == []
    assert result.malformed_reasons == {"e2e_latency is negative or not finite": 1}


def test_null_timings_are_kept_as_unmeasured() -> None:
    line = '{"event": "turn", "region": "eu-west", "llm_ttft": null, "e2e_latency": 1.0}'
    (turn,) = parse_text(line, "log").turns
    assert turn.llm_ttft is None
    assert turn.e2e_latency == 1.0


def test_runtime_prefix_before_the_json_is_tolerated() -> None:
    line = '2026-11-24T10:00:00Z stdout F {"event": "turn", "region": "eu-west", "e2e_latency": 1}'
    assert len(parse_text(line, "log").turns) == 1


def test_log_stream_records_wrapping_the_line_in_log_are_unwrapped() -> None:
    records = [
        json.dumps({"TimeStamp": "2026-11-24T10:00:00Z", "Log": line}) for line in turn_lines(2)
    ]
    assert len(parse_text("\n".join(records), "stream").turns) == 6


def test_log_analytics_csv_export_with_log_s_column_is_read() -> None:
    lines = turn_lines(turns_per_region=4)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["TimeGenerated [UTC]", "ContainerAppName_s", "Log_s"])
    for line in lines:
        writer.writerow(["11/24/2026, 10:00:00.000 AM", "support-agent-eu-west", line])
    result = parse_text(buffer.getvalue(), "export.csv")
    assert len(result.turns) == 12
    assert result.malformed == 0


def test_log_analytics_json_export_of_newer_table_with_log_column_is_read() -> None:
    rows = [{"TimeGenerated": "2026-11-24T10:00:00Z", "Log": line} for line in turn_lines(4)]
    result = parse_text(json.dumps(rows), "export.json")
    assert len(result.turns) == 12


def test_log_analytics_rest_api_tables_are_read() -> None:
    document = {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": "TimeGenerated"}, {"name": "Log_s"}],
                "rows": [["2026-11-24T10:00:00Z", line] for line in turn_lines(2)],
            }
        ]
    }
    assert len(parse_text(json.dumps(document), "export.json").turns) == 6


def test_projected_columns_csv_is_read_as_events() -> None:
    text = (
        "TimeGenerated [UTC],event,region,e2e_latency,llm_ttft,cache_hit\n"
        "x,turn,eu-west,1.25,,True\n"
    )
    (turn,) = parse_text(text, "export.csv").turns
    assert (turn.region, turn.e2e_latency, turn.llm_ttft, turn.cache_hit) == (
        "eu-west",
        1.25,
        None,
        True,
    )


def test_percentiles_are_reported_in_milliseconds() -> None:
    p = percentiles_ms([i / 1000 for i in range(1, 101)])
    assert (p.count, p.p50, p.p90, p.p99) == (100, pytest.approx(50.5), pytest.approx(90.1), 99.01)


def test_breakdown_splits_endpointing_into_transcription_and_wait() -> None:
    line = json.dumps(
        {
            "event": "turn",
            "region": "eu-west",
            "eou_delay": 0.5,
            "transcription_delay": 0.2,
            "llm_ttft": 0.4,
            "tts_ttfb": 0.15,
            "e2e_latency": 1.15,
        }
    )
    (region,) = by_region(parse_text(line, "log").turns)
    segments = region.breakdown.segments_ms
    assert segments == pytest.approx(
        {"stt": 200, "endpointing_wait": 300, "llm": 400, "tts": 150, "livekit_overhead": 100}
    )
    assert region.breakdown.shares["ai"] == pytest.approx(750 / 1150)
    assert sum(region.breakdown.shares.values()) == pytest.approx(1.0)


def test_cache_hits_are_compared_with_misses() -> None:
    lines = [
        json.dumps({"event": "turn", "region": "r", "e2e_latency": e2e, "cache_hit": hit})
        for e2e, hit in [(0.5, True), (0.7, True), (1.0, False), (1.2, False), (1.4, False)]
    ]
    (region,) = by_region(parse_text("\n".join(lines), "log").turns)
    assert region.cache_hit_rate == pytest.approx(0.4)
    assert region.e2e_cache_hit.p50 == pytest.approx(600)
    assert region.e2e_cache_miss.p50 == pytest.approx(1200)


def test_terminal_report_lists_every_region_and_all(log_file: Path) -> None:
    code, out, _ = run([str(log_file)])
    assert code == 0
    for region in ("eu-west", "us-east", "ap-southeast", "all"):
        assert f"\n{region} " in out


def test_markdown_report_has_markdown_tables(log_file: Path) -> None:
    code, out, _ = run([str(log_file), "--markdown"])
    assert code == 0
    assert "| region | stage | count | p50 | p90 | p99 |" in out


def test_json_report_holds_per_region_percentiles_and_shares(log_file: Path) -> None:
    code, out, _ = run([str(log_file), "--json"])
    document = json.loads(out)
    regions = {r["region"]: r for r in document["regions"]}
    assert code == 0
    assert set(regions) == {"eu-west", "us-east", "ap-southeast", "all"}
    assert regions["eu-west"]["components_ms"]["e2e"]["count"] == 60
    assert sum(regions["all"]["shares"].values()) == pytest.approx(1.0)


def test_the_report_carries_the_heard_estimate_the_agents_logged() -> None:
    lines = []
    for line in turn_lines(3):
        turn = json.loads(line)
        if turn.get("e2e_latency") is not None:
            turn["heard_estimate"] = round(turn["e2e_latency"] + 0.16, 4)
        lines.append(json.dumps(turn))
    code, out, _ = run(["--json"], stdin_text="\n".join(lines))
    regions = {r["region"]: r for r in json.loads(out)["regions"]}
    components = regions["all"]["components_ms"]
    assert code == 0
    assert components["heard"]["count"] == components["e2e"]["count"]
    assert components["heard"]["p50"] == pytest.approx(components["e2e"]["p50"] + 160, abs=1)


def test_stdin_is_read_when_no_file_is_given() -> None:
    code, out, _ = run(["--json"], stdin_text="\n".join(turn_lines(3)))
    assert code == 0
    assert json.loads(out)["input"]["turns"] == 9


def test_malformed_records_are_reported_and_the_report_still_runs(log_file: Path) -> None:
    with log_file.open("a") as f:
        f.write("garbage\n")
    code, out, err = run([str(log_file), "--json"])
    assert code == 0
    assert json.loads(out)["input"]["malformed"] == 1
    assert "skipped 1 malformed" in err


def test_empty_input_gets_a_clear_message_and_exit_code_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("")
    code, out, err = run([str(empty)])
    assert code == 1
    assert out == ""
    assert f"no `turn` events in {empty}" in err


def test_missing_file_is_named_in_the_error(tmp_path: Path) -> None:
    code, _, err = run([str(tmp_path / "nope.jsonl")])
    assert code == 1
    assert "cannot read" in err and "nope.jsonl" in err


def test_plot_is_written_as_png(log_file: Path, tmp_path: Path) -> None:
    out_png = tmp_path / "breakdown.png"
    code, _, _ = run([str(log_file), "--plot", str(out_png)])
    assert code == 0
    assert out_png.read_bytes().startswith(PNG_SIGNATURE)


def test_script_runs_from_the_repo_root_as_documented(log_file: Path) -> None:
    repo_root = Path(latency_report.__file__).resolve().parents[2]
    completed = subprocess.run(
        [sys.executable, "scripts/latency_report.py", str(log_file), "--markdown"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "### Cache" in completed.stdout
