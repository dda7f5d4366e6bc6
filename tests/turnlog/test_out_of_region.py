"""The latency report counts, per region, the turns whose models were served from another Azure
location and what that cost; turns logged before the served fields still parse and are left out."""

from __future__ import annotations

import json

from meridian.turnlog import by_region, parse_text, render_json, render_text
from tests.turnlog.log_samples import turn_lines


def _turn(
    region: str, location: str | None, llm_at: str | None, llm_ttft: float, e2e: float
) -> str:
    event = {
        "event": "turn",
        "region": region,
        "llm_ttft": llm_ttft,
        "e2e_latency": e2e,
        "cache_hit": False,
        "llm_provider": "azure-ai",
        "llm_deployment": "gpt-5.4-mini",
    }
    if location is not None:
        event |= {"location": location, "stt_location": location, "tts_location": location}
    if llm_at is not None:
        event["llm_location"] = llm_at
    return json.dumps(event)


LOG = "\n".join(
    [
        _turn("eu-west", "westeurope", "westeurope", 0.30, 1.00),
        _turn("eu-west", "westeurope", "westeurope", 0.32, 1.02),
        _turn("eu-west", "westeurope", "eastus", 0.41, 1.10),
        _turn("us-east", "eastus", "eastus", 0.28, 0.95),
        # logged before the served fields
        json.dumps({"event": "turn", "region": "eu-west", "llm_ttft": 0.3, "e2e_latency": 1.0}),
    ]
)


def test_turns_served_out_of_region_are_counted_per_region_and_stage() -> None:
    parsed = parse_text(LOG, "log")
    assert parsed.malformed == 0 and len(parsed.turns) == 5
    eu = next(r for r in by_region(parsed.turns) if r.region == "eu-west")
    assert (eu.served.known, eu.served.out_of_region) == (3, 1)
    assert eu.served.stages["llm"].turns == 1
    assert eu.served.stages["stt"].turns == 0


def test_the_cost_compares_out_of_region_turns_with_in_region_ones() -> None:
    eu = next(r for r in by_region(parse_text(LOG, "log").turns) if r.region == "eu-west")
    assert round(eu.served.stages["llm"].extra_ms or 0) == 100  # 410 ms against the 310 ms median
    assert round(eu.served.extra_ms or 0) == 90  # e2e 1100 against 1010


def test_older_turns_parse_and_are_named_as_left_out() -> None:
    parsed = parse_text(LOG, "log")
    text = render_text(by_region(parsed.turns), parsed, markdown=False)
    assert "1 turns without served fields" in text
    old = parsed.turns[-1]
    assert old.location is None and old.out_of_region == ()


def test_a_log_without_served_fields_says_so() -> None:
    old = json.dumps({"event": "turn", "region": "eu-west", "e2e_latency": 1.0})
    parsed = parse_text(old, "log")
    text = render_text(by_region(parsed.turns), parsed, markdown=False)
    assert "no turn says where its models ran" in text


def test_a_location_that_is_not_text_is_malformed() -> None:
    bad = json.dumps({"event": "turn", "region": "eu-west", "llm_location": 7})
    parsed = parse_text(bad, "log")
    assert parsed.malformed_reasons == {"llm_location is not a string": 1}


def test_the_json_report_carries_the_out_of_region_figures() -> None:
    parsed = parse_text("\n".join(turn_lines()), "sample")
    document = json.loads(render_json(by_region(parsed.turns), parsed))
    eu = next(r for r in document["regions"] if r["region"] == "eu-west")
    assert eu["served"]["out_of_region"] == 16
    assert eu["served"]["stages"]["llm"]["extra_ms"] > 0
    us = next(r for r in document["regions"] if r["region"] == "us-east")
    assert us["served"]["out_of_region"] == 0


def test_projected_csv_columns_carry_the_locations() -> None:
    csv = (
        "TimeGenerated,event,region,location,llm_location,e2e_latency\n"
        "2026-12-02T10:00:00Z,turn,eu-west,westeurope,eastus,1.2\n"
        "2026-12-02T10:00:01Z,turn,eu-west,,,1.0\n"
    )
    parsed = parse_text(csv, "export.csv")
    assert [t.out_of_region for t in parsed.turns] == [("llm",), ()]
