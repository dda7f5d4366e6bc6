"""Fit the turn gate's text model on the "fit" clips and judge it on the "report" clips.

Every pause a caller makes is one example: the first part of a paused question ("unfinished"
prefixes must wait, finished-sentence prefixes may be answered) and the end of every question
(finished). `python -m benchmarks.gate_fit` prints the fitted weights and thresholds to paste
into agent/completeness.py and agent/turn_gate.py, with the separation on both halves.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from agent.completeness import FEATURE_NAMES, CompletenessWeights, TextCompleteness
from benchmarks.clips import Clip, Split, load_clips

Label = Literal["finished", "sentence", "unfinished"]
# L2 penalties tried; the one with the best leave-one-out log loss on the fit half is used
RIDGES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
# the safety margin below the lowest finished-tier score, as a factor on an unfinished
# prefix's odds: an unseen unfinished prefix scoring up to 3x the odds of the worst fitted one
# still waits
_ODDS_MARGIN = 3.0


@dataclass(frozen=True)
class Example:
    """One pause: the words heard so far, what they are, and the clip they come from."""

    text: str
    label: Label
    clip: Clip


def examples(clips: Sequence[Clip]) -> list[Example]:
    """Every pause in these clips: paused prefixes and question ends."""
    out: list[Example] = []
    for clip in clips:
        if clip.kind == "backchannel":
            continue
        if clip.kind == "paused":
            prefix: Label = "unfinished" if clip.prefix == "unfinished" else "sentence"
            out.append(Example(clip.segments[0].text, prefix, clip))
        out.append(Example(clip.text, "finished", clip))
    return out


def of_split(split: Split) -> list[Example]:
    """The examples from one half of the clips."""
    return examples([c for c in load_clips() if c.split == split])


def _design(model: TextCompleteness, data: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows (with a bias column) and labels for the examples the grammar rules leave
    open; a finished sentence (prefix or question) is the positive class."""
    rows, ys = [], []
    for ex in data:
        f = model.features(ex.text)
        if f is None or f.dangling:
            continue
        rows.append((1.0, *f.vector()))
        ys.append(0.0 if ex.label == "unfinished" else 1.0)
    return np.array(rows), np.array(ys)


def _newton(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge logistic regression by Newton's method; the bias is not penalised."""
    w = np.zeros(x.shape[1])
    penalty = np.diag([0.0] + [ridge] * (x.shape[1] - 1))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def loo_predictions(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Each example's score under a model fitted on all the others."""
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        w = _newton(x[keep], y[keep], ridge)
        out[i] = 1.0 / (1.0 + np.exp(-x[i] @ w))
    return out


def loo_log_loss(x: np.ndarray, y: np.ndarray, ridge: float) -> float:
    """Mean log loss of the leave-one-out predictions."""
    p = np.clip(loo_predictions(x, y, ridge), 1e-9, 1 - 1e-9)
    return float(-np.mean(np.where(y == 1, np.log(p), np.log(1 - p))))


@dataclass(frozen=True)
class Fit:
    """The fitted weights, the penalty chosen, and the threshold they support."""

    weights: CompletenessWeights
    ridge: float
    threshold: float


def fit_gate(model: TextCompleteness, data: Sequence[Example]) -> Fit:
    """Weights fitted on these examples, the penalty chosen by leave-one-out, and the threshold
    set from the leave-one-out scores of the unfinished prefixes, which stand for prefixes the
    fit has never seen (in-sample scores flatter the model)."""
    x, y = _design(model, data)
    ridge = min(RIDGES, key=lambda r: loo_log_loss(x, y, r))
    w = _newton(x, y, ridge)
    weights = CompletenessWeights(
        bias=round(float(w[0]), 3), coefficients=tuple(round(float(v), 3) for v in w[1:])
    )
    held_out = loo_predictions(x, y, ridge)
    return Fit(weights, ridge, safe_threshold([float(p) for p in held_out[y == 0]]))


def scores(model: TextCompleteness, data: Sequence[Example]) -> list[float]:
    """The model's score for each example."""
    out = []
    for ex in data:
        f = model.features(ex.text)
        out.append(0.0 if f is None else model.score(f))
    return out


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half."""
    if not positive or not negative:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def safe_threshold(unfinished_scores: Sequence[float]) -> float:
    """The lowest score allowed to answer before the longest wait: above every given unfinished
    prefix's score by _ODDS_MARGIN in odds."""
    worst = max(unfinished_scores)
    odds = worst / (1 - worst) * _ODDS_MARGIN
    return round(odds / (1 + odds), 3)


def main() -> int:
    """Fit on the fit half, print the weights, the threshold and the separation on both."""
    fitted = fit_gate(TextCompleteness(), of_split("fit"))
    weights, ridge, threshold = fitted.weights, fitted.ridge, fitted.threshold
    model = TextCompleteness(weights=weights)
    named = zip(FEATURE_NAMES, weights.coefficients, strict=True)
    print(
        f"weights (L2 {ridge:g}, chosen by leave-one-out on the fit half): bias {weights.bias}, "
        + ", ".join(f"{n} {c}" for n, c in named)
    )
    print(
        f"threshold (3x the odds of the highest leave-one-out score of an unfinished prefix): "
        f"{threshold}"
    )
    for split in ("fit", "report"):
        data = of_split(split)  # type: ignore[arg-type]
        s = scores(model, data)
        by = {
            label: [v for v, ex in zip(s, data, strict=True) if ex.label == label]
            for label in ("finished", "sentence", "unfinished")
        }
        print(
            f"{split}: AUC finished vs unfinished {auc(by['finished'], by['unfinished']):.3f}; "
            f"unfinished at/above threshold {sum(v >= threshold for v in by['unfinished'])}"
            f"/{len(by['unfinished'])}; finished below "
            f"{sum(v < threshold for v in by['finished'])}/{len(by['finished'])}; "
            f"sentence prefixes at/above {sum(v >= threshold for v in by['sentence'])}"
            f"/{len(by['sentence'])}"
        )
        for v, ex in sorted(zip(s, data, strict=True), key=lambda t: t[0]):
            print(f"   {v:.3f} {ex.label:10s} {ex.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
