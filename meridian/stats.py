"""The one source of percentiles: numpy's, with the method named at each use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# numpy's default: linear interpolation between the two nearest ranks.
LINEAR = "linear"
# The smallest value whose cumulative share reaches q: the nearest-rank definition.
NEAREST_RANK = "inverted_cdf"

Values = Sequence[float] | npt.NDArray[np.floating]


def percentile(values: Sequence[float | None], q: float, method: str = LINEAR) -> float | None:
    """The q-th percentile (0-100) of the values present (None skipped), or None when none are."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return float(np.percentile(np.asarray(present, dtype=float), q, method=method))


def percentiles(values: Values, qs: Sequence[float], method: str = LINEAR) -> list[float]:
    """Several percentiles (0-100) of non-empty `values` at once."""
    result = np.percentile(np.asarray(values, dtype=float), list(qs), method=method)
    return [float(v) for v in result]


def nearest_rank(values: Values, q: float) -> float:
    """The smallest of non-empty `values` with at least q percent of them at or below it."""
    return float(np.percentile(np.asarray(values, dtype=float), q, method=NEAREST_RANK))


def weighted_percentile(values: Values, weights: Values, q: float) -> float:
    """The smallest value whose cumulative weight reaches q percent of the total (nearest rank)."""
    return float(
        np.percentile(
            np.asarray(values, dtype=float),
            q,
            weights=np.asarray(weights, dtype=float),
            method=NEAREST_RANK,
        )
    )


def median(values: Values) -> float:
    """The median (linear interpolation) of non-empty `values`."""
    return float(np.median(np.asarray(values, dtype=float)))
