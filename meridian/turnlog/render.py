"""The latency report's output: five tables (terminal text or Markdown), JSON, and a bar chart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from meridian.contract import MODEL_STAGES
from meridian.tables import fmt_ms, fmt_pct, render_table
from meridian.turnlog.events import ParseResult
from meridian.turnlog.stats import (
    COMPONENTS,
    GATE_OUTCOMES,
    GROUPS,
    NOT_GATED,
    SEGMENTS,
    GateOutcome,
    RegionLatency,
    ServedStats,
)

GATE_HEADERS = (
    "region",
    "verdict",
    "turns",
    "share",
    "wait p50",
    "e2e p50",
    "resumed",
    "resumed %",
)


def _percentile_rows(regions: Sequence[RegionLatency]) -> list[list[str]]:
    rows = []
    for region in regions:
        for key, label in COMPONENTS:
            p = region.components[key]
            rows.append(
                [region.region, label, str(p.count), fmt_ms(p.p50), fmt_ms(p.p90), fmt_ms(p.p99)]
            )
    return rows


def _breakdown_rows(regions: Sequence[RegionLatency]) -> list[list[str]]:
    rows = []
    for region in regions:
        b = region.breakdown
        rows.append(
            [
                region.region,
                *(fmt_ms(b.segments_ms[key]) for key, _, _ in SEGMENTS),
                *(fmt_pct(b.shares[group]) for group, _ in GROUPS),
                fmt_ms(region.components["e2e"].p50),
            ]
        )
    return rows


def _cache_rows(regions: Sequence[RegionLatency]) -> list[list[str]]:
    return [
        [
            r.region,
            str(r.cache_known),
            fmt_pct(r.cache_hit_rate),
            fmt_ms(r.e2e_cache_hit.p50),
            fmt_ms(r.e2e_cache_miss.p50),
            fmt_ms(r.e2e_cache_hit.p90),
            fmt_ms(r.e2e_cache_miss.p90),
        ]
        for r in regions
    ]


def _gate_row(region: str, verdict: str, o: GateOutcome) -> list[str]:
    return [
        region,
        verdict,
        str(o.turns),
        fmt_pct(o.share),
        fmt_ms(o.endpointing_delay.p50),
        fmt_ms(o.e2e.p50),
        str(o.resumed),
        fmt_pct(o.resumed_rate),
    ]


def _gate_rows(regions: Sequence[RegionLatency]) -> list[list[str]]:
    # The verdicts always (a zero is news), the turns the gate did not end only when there are any.
    shown = [
        o for o in GATE_OUTCOMES if o != NOT_GATED or any(r.gate.outcomes[o].turns for r in regions)
    ]
    rows = []
    for r in regions:
        if not r.gate.total.turns:
            rows.append([r.region, "no gate fields", "0", *["-"] * 5])
            continue
        rows.extend(_gate_row(r.region, o, r.gate.outcomes[o]) for o in shown)
        rows.append(_gate_row(r.region, "total", r.gate.total))
    return rows


def _gate_section(
    regions: Sequence[RegionLatency], parsed: ParseResult, markdown: bool
) -> list[str]:
    title = "Turn gate: verdicts, chosen wait and e2e (ms), resumed turns"
    title = f"### {title}" if markdown else title
    if not any(t.gate_logged for t in parsed.turns):
        return [title, "no turn carries the gate fields (logged before the turn gate)"]
    parts = [title, render_table(GATE_HEADERS, _gate_rows(regions), markdown)]
    unlogged = sum(1 for t in parsed.turns if not t.gate_logged)
    if unlogged:
        turns = "turn" if unlogged == 1 else "turns"
        parts.append(
            f"{unlogged} {turns} without gate fields (logged before the turn gate) left out"
        )
    return parts


def _away(stats: ServedStats, stage: str) -> str:
    away = stats.stages[stage]
    if not away.turns:
        return "0"
    extra = away.extra_ms
    return f"{away.turns} ({extra:+.0f})" if extra is not None else str(away.turns)


def _served_section(
    regions: Sequence[RegionLatency], parsed: ParseResult, markdown: bool
) -> list[str]:
    title = "Models served out of the agent's region: turns, and what they cost (ms)"
    title = f"### {title}" if markdown else title
    if not any(t.placement_known for t in parsed.turns):
        return [title, "no turn says where its models ran (logged before the served fields)"]
    rows = [
        [
            r.region,
            str(r.served.known),
            str(r.served.out_of_region),
            fmt_pct(r.served.share),
            *(_away(r.served, stage) for stage in MODEL_STAGES),
            fmt_ms(r.served.e2e_in.p50),
            fmt_ms(r.served.e2e_out.p50),
            "-" if r.served.extra_ms is None else f"{r.served.extra_ms:+.0f}",
        ]
        for r in regions
    ]
    headers = [
        "region",
        "turns",
        "out of region",
        "share",
        *(f"{stage.upper()} out (+p50)" for stage in MODEL_STAGES),
        "e2e p50 in region",
        "e2e p50 out",
        "cost",
    ]
    parts = [title, render_table(headers, rows, markdown)]
    unknown = sum(1 for t in parsed.turns if not t.placement_known)
    if unknown:
        parts.append(f"{unknown} turns without served fields (older logs, or no location) left out")
    return parts


def _input_note(parsed: ParseResult) -> str:
    note = (
        f"{len(parsed.turns)} turns from {parsed.lines_read} records "
        f"({parsed.other_events} other events ignored, {parsed.malformed} malformed skipped)"
    )
    if parsed.malformed:
        reasons = ", ".join(
            f"{reason}: {n}" for reason, n in parsed.malformed_reasons.most_common()
        )
        note += f"\nmalformed: {reasons}; first: " + "; ".join(parsed.malformed_examples[:3])
    return note


def render_text(regions: Sequence[RegionLatency], parsed: ParseResult, markdown: bool) -> str:
    """The report tables, as terminal text or Markdown."""
    heading = "### {}" if markdown else "{}"
    parts = [
        heading.format("Latency per stage (ms)"),
        render_table(
            ["region", "stage", "count", "p50", "p90", "p99"], _percentile_rows(regions), markdown
        ),
        "",
        heading.format("Median turn, stacked (ms) and share of each group"),
        render_table(
            [
                "region",
                *(label for _, label, _ in SEGMENTS),
                "AI %",
                "endpointing %",
                "network+LiveKit %",
                "e2e p50",
            ],
            _breakdown_rows(regions),
            markdown,
        ),
        "",
        heading.format("Cache"),
        render_table(
            [
                "region",
                "turns",
                "hit rate",
                "e2e p50 hit",
                "e2e p50 miss",
                "e2e p90 hit",
                "e2e p90 miss",
            ],
            _cache_rows(regions),
            markdown,
        ),
        "",
        *_gate_section(regions, parsed, markdown),
        "",
        *_served_section(regions, parsed, markdown),
        "",
        _input_note(parsed),
    ]
    return "\n".join(parts) + "\n"


def _gate_json(o: GateOutcome) -> dict[str, Any]:
    return {
        "turns": o.turns,
        "share": o.share,
        "endpointing_delay_ms": asdict(o.endpointing_delay),
        "e2e_ms": asdict(o.e2e),
        "turns_with_resumed_info": o.resumed_known,
        "resumed": o.resumed,
        "resumed_rate": o.resumed_rate,
    }


def render_json(regions: Sequence[RegionLatency], parsed: ParseResult) -> str:
    """The report as JSON: milliseconds, shares in 0..1, plus what the parser skipped."""
    document: dict[str, Any] = {
        "regions": [
            {
                "region": r.region,
                "turns": r.turns,
                "components_ms": {key: asdict(p) for key, p in r.components.items()},
                "median_breakdown_ms": r.breakdown.segments_ms,
                "shares": r.breakdown.shares,
                "cache": {
                    "turns_with_cache_info": r.cache_known,
                    "hits": r.cache_hits,
                    "hit_rate": r.cache_hit_rate,
                    "e2e_hit_ms": asdict(r.e2e_cache_hit),
                    "e2e_miss_ms": asdict(r.e2e_cache_miss),
                },
                "served": {
                    "turns_with_placement": r.served.known,
                    "out_of_region": r.served.out_of_region,
                    "share": r.served.share,
                    "stages": {
                        stage: {
                            "turns": a.turns,
                            "p50_in_region_ms": a.p50_in_ms,
                            "p50_out_ms": a.p50_out_ms,
                            "extra_ms": a.extra_ms,
                        }
                        for stage, a in r.served.stages.items()
                    },
                    "e2e_in_region_ms": asdict(r.served.e2e_in),
                    "e2e_out_ms": asdict(r.served.e2e_out),
                    "extra_ms": r.served.extra_ms,
                },
                "gate": {
                    "turns_without_gate_info": r.gate.unlogged,
                    **{k: v for k, v in _gate_json(r.gate.total).items() if k != "share"},
                    "verdicts": {o: _gate_json(r.gate.outcomes[o]) for o in GATE_OUTCOMES},
                },
            }
            for r in regions
        ],
        "input": {
            "records": parsed.lines_read,
            "turns": len(parsed.turns),
            "other_events": parsed.other_events,
            "malformed": parsed.malformed,
            "malformed_reasons": dict(parsed.malformed_reasons),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def plot_breakdown(regions: Sequence[RegionLatency], out: Path) -> None:
    """Write a PNG with one stacked bar per region: the median turn's segments."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.region for r in regions]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.4 * len(names) + 2.5), 4.5), dpi=100)
    bottoms = [0.0] * len(regions)
    colors = {"ai": ["#4c78a8", "#72b7b2", "#54a24b"], "endpointing": ["#eeca3b"]}
    used: dict[str, int] = {}
    for key, label, group in SEGMENTS:
        palette = colors.get(group, ["#9d755d"])
        color = palette[used.get(group, 0) % len(palette)]
        used[group] = used.get(group, 0) + 1
        values = [r.breakdown.segments_ms[key] for r in regions]
        ax.bar(names, values, bottom=bottoms, label=label, color=color)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for x, region in enumerate(regions):
        ai = fmt_pct(region.breakdown.shares["ai"])
        ax.annotate(
            f"{region.breakdown.total_ms:.0f} ms\nAI {ai}",
            (x, bottoms[x]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("median milliseconds")
    ax.set_title("Median voice-to-voice turn by region")
    ax.set_ylim(0, max(bottoms, default=1.0) * 1.25 or 1.0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
