"""How often nearest-by-great-circle routing picks a worse region than the RTT model, and by how much.

Users: the planner's default world population (GeoNames, population-weighted). Region sets: random
sets of k generally available Azure regions, and the planner's best set for each k. For every user,
plain great-circle routing picks the region whose site is nearest; the model picks the lowest
`meridian.geo.latency` expected RTT. The gap is the extra expected RTT great-circle routing costs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.report import machine
from meridian.geo.latency import site_location
from meridian.geo.regions import azure_regions
from meridian.planner.population import world_population
from meridian.planner.selection import best_sets, rtt_matrix
from meridian.stats import median, percentile, weighted_percentile
from meridian.tables import render_table

SET_SIZES = (5, 6, 8, 10)
RANDOM_SETS = 200
QUICK_RANDOM_SETS = 25
SEED = 20251124
# Gaps under this are float noise or a tie, not a worse choice.
WORSE_MS = 0.5
THRESHOLDS_MS = (5.0, 10.0, 20.0)


@dataclass(frozen=True)
class RoutingGap:
    """Population-weighted outcome of great-circle routing against the model, for one set."""

    worse_share: float
    share_over: dict[float, float]
    mean_gap_when_worse_ms: float
    p95_gap_when_worse_ms: float
    mean_gap_ms: float


def _unit_vectors(latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(latitudes), np.radians(longitudes)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def closeness(users: np.ndarray, regions: Sequence[str]) -> np.ndarray:
    """Dot products of user and region-site unit vectors: larger is nearer on the great circle."""
    sites = [site_location(r) for r in regions]
    vectors = _unit_vectors(
        np.array([s.latitude for s in sites]), np.array([s.longitude for s in sites])
    )
    return users @ vectors.T


def routing_gap(
    rtt: np.ndarray, near: np.ndarray, weights: np.ndarray, columns: Sequence[int]
) -> RoutingGap:
    """Compare great-circle choice (max `near`) with model choice (min `rtt`) within `columns`."""
    cols = list(columns)
    sub_rtt = rtt[:, cols]
    by_distance = sub_rtt[np.arange(len(sub_rtt)), np.argmax(near[:, cols], axis=1)]
    gap = by_distance - sub_rtt.min(axis=1)
    total = float(weights.sum())
    worse = gap > WORSE_MS
    worse_weight = float(weights[worse].sum())
    if worse_weight > 0:
        mean_worse = float(np.dot(gap[worse], weights[worse]) / worse_weight)
        p95_worse = weighted_percentile(gap[worse], weights[worse], 95)
    else:
        mean_worse = p95_worse = 0.0
    return RoutingGap(
        worse_share=worse_weight / total,
        share_over={t: float(weights[gap >= t].sum() / total) for t in THRESHOLDS_MS},
        mean_gap_when_worse_ms=mean_worse,
        p95_gap_when_worse_ms=p95_worse,
        mean_gap_ms=float(np.dot(gap, weights) / total),
    )


def _row(label: str, gaps: Sequence[RoutingGap]) -> list[str]:
    shares = [g.worse_share for g in gaps]
    cells = [
        label,
        str(len(gaps)),
        f"{median(shares):.1%}",
        f"{percentile(shares, 10):.1%} to {percentile(shares, 90):.1%}",
        *(f"{median([g.share_over[t] for g in gaps]):.1%}" for t in THRESHOLDS_MS),
        f"{median([g.mean_gap_when_worse_ms for g in gaps]):.1f}",
        f"{median([g.p95_gap_when_worse_ms for g in gaps]):.1f}",
        f"{median([g.mean_gap_ms for g in gaps]):.2f}",
    ]
    return cells


def main(quick: bool) -> None:
    """Measure great-circle routing against the model over many region sets; print a table."""
    started = time.perf_counter()
    per_size = QUICK_RANDOM_SETS if quick else RANDOM_SETS
    users = world_population()
    regions = sorted(name for name, r in azure_regions().items() if r.generally_available)
    weights = np.array([u.weight for u in users], dtype=float)
    rtt = rtt_matrix(users, regions)
    near = closeness(
        _unit_vectors(
            np.array([u.location.latitude for u in users]),
            np.array([u.location.longitude for u in users]),
        ),
        regions,
    )
    rng = random.Random(SEED)
    rows = []
    for k in SET_SIZES:
        sets = [rng.sample(range(len(regions)), k) for _ in range(per_size)]
        rows.append(_row(f"random, k={k}", [routing_gap(rtt, near, weights, s) for s in sets]))
    planned = best_sets(rtt, weights, max(SET_SIZES))
    for k in SET_SIZES:
        best = planned[k - 1]
        label = f"planner best k={k}: {' '.join(sorted(regions[c] for c in best))}"
        rows.append(_row(label, [routing_gap(rtt, near, weights, best)]))
    elapsed = time.perf_counter() - started

    print("## Routing model: nearest by great circle vs lowest expected RTT (meridian.geo.latency)")
    print(f"machine: {machine().describe()}; {elapsed:.1f} s")
    print(
        f"users: default world population, {len(users)} places, population-weighted; "
        f"regions: {len(regions)} generally available; {per_size} random sets per k (seed {SEED})"
    )
    print()
    headers = [
        "sets",
        "n",
        "users routed worse (median)",
        "p10-p90 over sets",
        *(f">= {t:g} ms" for t in THRESHOLDS_MS),
        "mean gap when worse, ms",
        "p95 gap when worse, ms",
        "mean gap over all users, ms",
    ]
    print(render_table(headers, rows, markdown=True, right=[i > 0 for i in range(len(headers))]))
    print()
    print(
        f"'worse': great-circle choice's expected RTT exceeds the model's by more than "
        f"{WORSE_MS:g} ms; shares and gaps are population-weighted; each column is the median "
        "over the sets in the row."
    )


if __name__ == "__main__":
    main(quick=False)
