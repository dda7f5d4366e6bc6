"""Fit the turn gate's text model on the "fit" half and judge it on the "report" half.

Every pause a caller makes is one example: the words before the pause of an unfinished question
(they must wait), and every finished question or finished sentence after which a caller goes on
(they may be answered). The examples come from the generated corpus (benchmarks/gate_corpus.py,
split by template family) and the project's own clips (benchmarks/data, split by clip). The
penalty and the threshold are chosen on family-held-out scores: each example scored by a model
fitted without its whole template family (a clip is its own group), which is what the gate
makes of a sentence pattern it has never seen; in-sample scores flatter it.
`python -m benchmarks.gate_fit` prints the weights and threshold to paste into
agent/completeness.py and agent/turn_gate.py, with the separation on both halves.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from agent.completeness import FEATURE_NAMES, CompletenessWeights, TextCompleteness
from benchmarks.clips import Clip, Split, load_clips
from benchmarks.gate_corpus import utterances

Label = Literal["finished", "sentence", "unfinished"]
# L2 penalties tried; the one with the best family-held-out log loss on the fit half is used
RIDGES = (0.1, 0.3, 1.0, 3.0, 10.0)
# the share of the fit half's finished questions (family-held-out) the threshold keeps on the
# short wait: more than half, so the e2e p50 goal holds with a margin; within that, the highest
# threshold, which cuts in least
FAST_SHARE = 0.6


@dataclass(frozen=True)
class Example:
    """One pause: the words heard so far, what they are, and where they come from (a corpus
    template family, or a clip): the group held out together."""

    text: str
    label: Label
    source: str
    split: Split


def examples(clips: Sequence[Clip]) -> list[Example]:
    """Every pause in these clips: paused prefixes, question ends and backchannels (a finished
    utterance too: a long wait after "mm-hm" over a reply would commit it after the reply)."""
    out: list[Example] = []
    for clip in clips:
        if clip.kind == "paused":
            prefix: Label = "unfinished" if clip.prefix == "unfinished" else "sentence"
            out.append(Example(clip.segments[0].text, prefix, clip.name, clip.split))
        out.append(Example(clip.text, "finished", clip.name, clip.split))
    return out


def corpus_examples() -> list[Example]:
    """Every utterance of the generated corpus, as the pause it ends at."""
    return [Example(u.heard, u.label, u.family, u.split) for u in utterances()]


def of_split(split: Split) -> list[Example]:
    """The examples from one half of the corpus and the clips."""
    return [ex for ex in (*corpus_examples(), *examples(load_clips())) if ex.split == split]


def _design(
    model: TextCompleteness, data: Sequence[Example]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Feature rows (with a bias column), labels and groups; a finished sentence (prefix or
    question) is the positive class."""
    rows, ys, groups = [], [], []
    for ex in data:
        f = model.features(ex.text)
        if f is None:
            continue
        rows.append((1.0, *f.vector()))
        ys.append(0.0 if ex.label == "unfinished" else 1.0)
        groups.append(ex.source)
    return np.array(rows), np.array(ys), groups


def _newton(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge logistic regression by Newton's method; the bias is not penalised."""
    w = np.zeros(x.shape[1])
    penalty = np.diag([0.0] + [ridge] * (x.shape[1] - 1))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        step = np.linalg.solve((x.T * (p * (1 - p))) @ x + penalty, x.T @ (p - y) + penalty @ w)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def held_out(x: np.ndarray, y: np.ndarray, groups: Sequence[str], ridge: float) -> np.ndarray:
    """Each example's score under a model fitted without its whole template family: what the
    model makes of a sentence pattern it has never seen."""
    g = np.array(groups)
    out = np.empty(len(y))
    for group in dict.fromkeys(groups):
        held = g == group
        w = _newton(x[~held], y[~held], ridge)
        out[held] = 1.0 / (1.0 + np.exp(-x[held] @ w))
    return out


def fast_threshold(finished: Sequence[float]) -> float:
    """The highest threshold (to 0.01) that FAST_SHARE of these finished scores reach."""
    return math.floor(float(np.percentile(finished, 100 * (1 - FAST_SHARE))) * 100) / 100


def held_out_log_loss(x: np.ndarray, y: np.ndarray, groups: Sequence[str], ridge: float) -> float:
    """Mean log loss of the family-held-out scores."""
    p = np.clip(held_out(x, y, groups, ridge), 1e-9, 1 - 1e-9)
    return float(-np.mean(np.where(y == 1, np.log(p), np.log(1 - p))))


@dataclass(frozen=True)
class Fit:
    """The fitted weights, the penalty chosen, and the threshold they support."""

    weights: CompletenessWeights
    ridge: float
    threshold: float


def fit_gate(model: TextCompleteness, data: Sequence[Example]) -> Fit:
    """Weights fitted on these examples, with the penalty and threshold chosen on their
    family-held-out scores."""
    x, y, groups = _design(model, data)
    ridge = min(RIDGES, key=lambda r: held_out_log_loss(x, y, groups, r))
    w = _newton(x, y, ridge)
    weights = CompletenessWeights(
        bias=round(float(w[0]), 3), coefficients=tuple(round(float(v), 3) for v in w[1:])
    )
    scores = held_out(x, y, groups, ridge)
    return Fit(weights, ridge, fast_threshold(scores[y == 1].tolist()))


def scores(model: TextCompleteness, data: Sequence[Example]) -> list[float]:
    """The model's score for each example."""
    return [model.score_text(ex.text) for ex in data]


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half."""
    if not positive or not negative:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def main() -> int:
    """Fit on the fit half, print the weights, the threshold and the separation on both."""
    fitted = fit_gate(TextCompleteness(), of_split("fit"))
    weights, ridge, threshold = fitted.weights, fitted.ridge, fitted.threshold
    model = TextCompleteness(weights=weights)
    named = zip(FEATURE_NAMES, weights.coefficients, strict=True)
    print(
        f"weights (L2 {ridge:g}, chosen by family-held-out log loss on the fit half): "
        f"bias {weights.bias}, " + ", ".join(f"{n} {c}" for n, c in named)
    )
    print(
        f"threshold (the highest that {FAST_SHARE:.0%} of the fit half's finished questions "
        f"reach, family-held-out): {threshold}"
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
