"""Which Azure regions to run in: user populations, expected RTT, region-set search, cost, output."""

from meridian.planner.cost import (
    ConsumptionPrices,
    MonthlyCost,
    RegionFootprint,
    load_prices,
    monthly_cost,
)
from meridian.planner.map import plot_map
from meridian.planner.plan import (
    ContinentSaving,
    Plan,
    PlanCase,
    PlanError,
    candidate_regions,
    manifest_regions,
    plan,
)
from meridian.planner.population import (
    PopulationError,
    User,
    load_population_csv,
    world_population,
)
from meridian.planner.render import render_json, render_text
from meridian.planner.selection import (
    Coverage,
    best_sets,
    coverage,
    greedy_sets,
    nearest,
    rtt_matrix,
)

__all__ = [
    "ConsumptionPrices",
    "ContinentSaving",
    "Coverage",
    "MonthlyCost",
    "Plan",
    "PlanCase",
    "PlanError",
    "PopulationError",
    "RegionFootprint",
    "User",
    "best_sets",
    "candidate_regions",
    "coverage",
    "greedy_sets",
    "load_population_csv",
    "load_prices",
    "manifest_regions",
    "monthly_cost",
    "nearest",
    "plan",
    "plot_map",
    "render_json",
    "render_text",
    "rtt_matrix",
    "world_population",
]
