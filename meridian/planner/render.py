"""The planner's output: the case and per-continent tables (terminal text or Markdown), and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

from meridian.planner.models import REACHES, RegionModels, table_note
from meridian.planner.plan import Plan
from meridian.planner.selection import THRESHOLDS_MS
from meridian.tables import fmt_ms, fmt_pct, render_table


def _case_rows(plan_: Plan, with_cost: bool) -> list[list[str]]:
    rows = []
    for case in plan_.cases:
        c = case.coverage
        row = [
            case.name,
            " ".join(case.regions),
            fmt_ms(c.mean_ms),
            fmt_ms(c.p50_ms),
            fmt_ms(c.p95_ms),
            *(fmt_pct(c.share_under[t]) for t in THRESHOLDS_MS),
        ]
        if with_cost and case.cost is not None:
            row += [
                f"{case.cost.idle_floor_usd:,.0f}",
                f"{case.cost.min_active_usd:,.0f}",
                f"{case.cost.max_active_usd:,.0f}",
                f"{case.cost.global_layer_usd:,.0f}",
            ]
        rows.append(row)
    return rows


def _model_rows(models: list[RegionModels]) -> list[list[str]]:
    rows = []
    for m in models:
        if not m.in_table:
            rows.append([m.region, "not in the table", "-", "-", "-", "-", "-"])
            continue
        rows.append(
            [
                m.region,
                "yes" if m.speech else "no",
                "yes" if m.hd_voices else "no",
                m.data_zone.upper() if m.data_zone else "none",
                *(", ".join(m.llm[reach]) or "none" for reach in REACHES),
            ]
        )
    return rows


MODEL_HEADERS = [
    "region",
    "Speech (STT, TTS)",
    "HD voices",
    "data zone",
    "LLM in region",
    "LLM in data zone",
    "LLM global",
]


def render_text(plan_: Plan, population: str, markdown: bool, day: date | None = None) -> str:
    """The case, per-continent saving and model availability tables, as terminal text or
    Markdown."""
    heading = "### {}" if markdown else "{}"
    with_cost = plan_.cases[0].cost is not None
    headers = ["case", "regions", "mean", "p50", "p95", *(f"<{t} ms" for t in THRESHOLDS_MS)]
    if with_cost:
        headers += ["$/mo idle floor", "$/mo min active", "$/mo max active", "$/mo global"]
    k = plan_.best_k_for_continents
    continent_rows = [
        [
            c.continent,
            fmt_pct(c.share),
            fmt_ms(c.baseline_ms),
            fmt_ms(c.current_ms),
            fmt_ms(c.best_ms),
            fmt_ms(c.baseline_ms - c.current_ms),
            fmt_ms(c.current_ms - c.best_ms),
        ]
        for c in plan_.continents
    ]
    parts = [
        heading.format("Expected RTT to the nearest region, population-weighted (ms)"),
        render_table(headers, _case_rows(plan_, with_cost), markdown),
        "",
        heading.format("Saving per continent (mean RTT, ms)"),
        render_table(
            [
                "continent",
                "users",
                f"{plan_.baseline} only",
                "current",
                f"best k={k}",
                "current saves",
                f"best k={k} saves more",
            ],
            continent_rows,
            markdown,
        ),
        "",
        *(
            [
                heading.format("Models each region can run (new deployments)"),
                render_table(MODEL_HEADERS, _model_rows(plan_.models), markdown),
                "",
            ]
            if plan_.models
            else []
        ),
        f"population: {population}",
    ]
    if plan_.models and day is not None:
        parts.append(table_note(day))
    if with_cost:
        parts.append(
            "cost: agent apps on the Consumption plan, 730 h/month, free grant taken off once;"
            " regions outside the manifest priced like its most common region; global: registry"
            " replicas, Front Door base fee, Key Vault and the fallback origin at list price"
            " (meridian/data/global_prices.json), before per-request charges"
        )
    return "\n".join(parts) + "\n"


def render_json(plan_: Plan, population: str, day: date | None = None) -> str:
    """The plan as JSON (milliseconds, shares in 0..1, USD per month, models by region)."""
    document = {
        "population": population,
        "cases": [
            {
                "name": c.name,
                "regions": list(c.regions),
                "coverage": {
                    "mean_ms": c.coverage.mean_ms,
                    "p50_ms": c.coverage.p50_ms,
                    "p95_ms": c.coverage.p95_ms,
                    "share_under_ms": {str(t): s for t, s in c.coverage.share_under.items()},
                },
                "monthly_cost_usd": asdict(c.cost) if c.cost else None,
            }
            for c in plan_.cases
        ],
        "continents": [asdict(c) for c in plan_.continents],
        "continents_best_k": plan_.best_k_for_continents,
        "models": {
            "deployable_on": day.isoformat() if day else None,
            "regions": [asdict(m) for m in plan_.models],
        },
    }
    return json.dumps(document, indent=2) + "\n"
