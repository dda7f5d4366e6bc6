"""Score region sets for a user population: the manifest's, a single-region baseline, the best k."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from meridian.geo.regions import azure_regions
from meridian.planner.cost import ConsumptionPrices, MonthlyCost, RegionFootprint, monthly_cost
from meridian.planner.models import RegionModels
from meridian.planner.population import User
from meridian.planner.selection import Coverage, best_sets, coverage, nearest, rtt_matrix

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
    # Model availability of every region some case uses (filled by the CLI).
    models: list[RegionModels] = field(default_factory=list)


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


def manifest_regions(
    path: Path | None, day: date | None = None
) -> tuple[list[str], dict[str, RegionFootprint]]:
    """The manifest's Azure locations and each one's agent app footprint (for the cost); its
    models are checked as of `day` (default today)."""
    from infra.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest

    try:
        manifest = load_manifest(path or DEFAULT_MANIFEST, on=day)
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
