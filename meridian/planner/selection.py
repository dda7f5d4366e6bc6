"""Which regions serve a population best: expected-RTT matrix, coverage statistics, set search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from meridian.geo.latency import rank_regions
from meridian.planner.population import User
from meridian.stats import weighted_percentile

THRESHOLDS_MS: tuple[int, ...] = (50, 100, 150)


@dataclass(frozen=True)
class Coverage:
    """Population-weighted RTT to the nearest region of a set, in ms, and shares under thresholds."""

    mean_ms: float
    p50_ms: float
    p95_ms: float
    share_under: dict[int, float]


def rtt_matrix(users: Sequence[User], regions: Sequence[str]) -> np.ndarray:
    """Expected RTT (ms) from every user (rows) to every region (columns), by meridian.geo.latency."""
    matrix = np.empty((len(users), len(regions)))
    for row, user in enumerate(users):
        rtts = dict(rank_regions(user.location, regions))
        matrix[row] = [rtts[region] for region in regions]
    return matrix


def nearest(matrix: np.ndarray, columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per user: the RTT to the nearest of `columns`, and which column that is."""
    sub = matrix[:, list(columns)]
    choice = np.argmin(sub, axis=1)
    return sub[np.arange(len(sub)), choice], np.asarray(columns)[choice]


def coverage(rtt: np.ndarray, weights: np.ndarray) -> Coverage:
    """Weighted mean, p50, p95 and threshold shares of per-user RTTs."""
    total = float(weights.sum())
    return Coverage(
        mean_ms=float(np.dot(rtt, weights) / total),
        p50_ms=weighted_percentile(rtt, weights, 50),
        p95_ms=weighted_percentile(rtt, weights, 95),
        share_under={t: float(weights[rtt < t].sum() / total) for t in THRESHOLDS_MS},
    )


def mean_rtt(matrix: np.ndarray, weights: np.ndarray, columns: Sequence[int]) -> float:
    """Weighted mean RTT to the nearest of `columns`: the objective the search minimises."""
    return float(np.dot(matrix[:, list(columns)].min(axis=1), weights) / weights.sum())


def _add_best(matrix: np.ndarray, weights: np.ndarray, chosen: Sequence[int]) -> int:
    """The unchosen column whose addition lowers the weighted mean most."""
    best = matrix[:, list(chosen)].min(axis=1) if chosen else np.full(matrix.shape[0], np.inf)
    totals = np.minimum(best[:, None], matrix).T @ weights
    totals[list(chosen)] = np.inf
    return int(np.argmin(totals))


def greedy_sets(matrix: np.ndarray, weights: np.ndarray, k_max: int) -> list[tuple[int, ...]]:
    """Plain greedy: set k adds to set k-1 the column that lowers the weighted mean most."""
    chosen: list[int] = []
    sets: list[tuple[int, ...]] = []
    for _ in range(min(k_max, matrix.shape[1])):
        chosen.append(_add_best(matrix, weights, chosen))
        sets.append(tuple(chosen))
    return sets


def greedy_from(matrix: np.ndarray, weights: np.ndarray, first: int, k: int) -> tuple[int, ...]:
    """Greedy set of k columns that starts from column `first` instead of the best single one."""
    chosen = [first]
    while len(chosen) < k:
        chosen.append(_add_best(matrix, weights, chosen))
    return tuple(chosen)


def improve_by_swaps(
    matrix: np.ndarray, weights: np.ndarray, columns: Sequence[int]
) -> tuple[int, ...]:
    """Swap one chosen column for an unchosen one while that lowers the mean (local search)."""
    current = list(columns)
    score = mean_rtt(matrix, weights, current)
    improved = True
    while improved:
        improved = False
        for position in range(len(current)):
            others = current[:position] + current[position + 1 :]
            rest = matrix[:, others].min(axis=1) if others else np.full(matrix.shape[0], np.inf)
            totals = (np.minimum(rest[:, None], matrix).T @ weights) / weights.sum()
            totals[current] = np.inf
            candidate = int(np.argmin(totals))
            # A relative margin keeps float noise from swapping forever between equals.
            if totals[candidate] < score * (1 - 1e-12):
                current[position] = candidate
                score = float(totals[candidate])
                improved = True
    return tuple(current)


def best_sets(matrix: np.ndarray, weights: np.ndarray, k_max: int) -> list[tuple[int, ...]]:
    """Best set found for each k = 1..k_max: local search from many starts, the lowest mean wins.

    Each start is a greedy set grown from a different first column, improved by single swaps.
    One start (plain greedy) can end in a local optimum; starting from every column avoids the
    ones seen on real populations, and is cheap (under a second for 2,000 users, 48 regions).
    """
    found = []
    for k in range(1, min(k_max, matrix.shape[1]) + 1):
        candidates = {
            tuple(sorted(improve_by_swaps(matrix, weights, greedy_from(matrix, weights, i, k))))
            for i in range(matrix.shape[1])
        }
        found.append(min(candidates, key=lambda c: (mean_rtt(matrix, weights, c), c)))
    return found
