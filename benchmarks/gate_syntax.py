"""A turn-gate text model from syntax (tried, not shipped): part-of-speech classes, clause
structure and the trigram, in one logistic model.

Instead of word lists, the inputs come from a part-of-speech tagger: the classes of the last two
words (a complementizer, relative pronoun, preposition or determiner opens a phrase that is not
there yet), whether a clause opener at the start still lacks its main clause ("If I pay by
card"), whether there is a finite verb at all ("Every time"), an open series ("a charger, a
case"), digits being dictated, and whether the sentence is an inverted question (which may end
on a stranded preposition). The trigram is the shipped gate's (agent/completeness.py).

The tagger is TextBlob's PatternTagger (Brill's lexicon and contextual rules, trained on the
Brown corpus and Penn Treebank; TextBlob MIT, Pattern BSD), whose lexicon ships inside the
textblob wheel: nothing downloads. `fit` fits the weights on the generated corpus's fit half
(benchmarks/gate_corpus.py), choosing the penalty and the threshold on family-held-out scores:
the threshold keeps FAST_SHARE of the finished questions on the short wait.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from agent.completeness import CompletenessWeights, EnglishTrigram, words_of
from benchmarks.gate_corpus import Utterance

# The tagger's Penn Treebank tags, grouped into the classes that decide whether a sentence can
# end: a group is one input of the model for the last word and one for the word before it.
TAG_GROUPS: dict[str, tuple[str, ...]] = {
    "determiner": ("DT", "PDT", "PRP$", "WP$", "POS"),
    "preposition": ("IN",),
    "to": ("TO",),
    "conjunction": ("CC",),
    "modal": ("MD",),
    "wh": ("WDT", "WP", "WRB"),
    "number": ("CD",),
    "noun": ("NN", "NNS"),
    "proper_noun": ("NNP", "NNPS"),
    "adjective": ("JJ", "JJR", "JJS"),
    "adverb": ("RB", "RBR", "RBS", "RP"),
    "pronoun": ("PRP", "EX"),
    "verb": ("VB", "VBG", "VBN"),
    "finite_verb": ("VBD", "VBP", "VBZ"),
}
_GROUP_OF = {tag: group for group, tags in TAG_GROUPS.items() for tag in tags}
GROUPS = tuple(TAG_GROUPS)
_FINITE = frozenset(["MD", "VBD", "VBP", "VBZ"])
# a clause opener: a subordinating conjunction or a wh-adverb
_OPENERS = frozenset(["IN", "WRB"])
# after an opener, these mean an inverted question ("When will it arrive"), not a clause
_INVERSION = frozenset(["MD", "VBD", "VBP", "VBZ"])
_WH = frozenset(TAG_GROUPS["wh"])
_SUBJECTS = frozenset(["PRP", "EX", "DT", "PRP$", "NNP"])
# what may come before an imperative's verb: "Please", "Just", "So"
_LEAD_INS = frozenset(["UH", "RB", "VB", "NN", "NNP"])
_TOKEN = re.compile(r"[a-z]+(?=n't)|n't|'(?:s|m|d|re|ve|ll)\b|[a-z0-9]+|,", re.IGNORECASE)
_MAX_DIGITS = 4


def tokens_of(text: str) -> list[str]:
    """Penn Treebank tokens ("don't" is "do n't"), commas kept between words: the STT's
    punctuation at the pause itself is a guess, but a comma inside marks a series."""
    tokens = _TOKEN.findall(text.replace("\u2019", "'"))
    while tokens and tokens[-1] == ",":
        tokens.pop()
    return tokens


@dataclass(frozen=True)
class Features:
    """What the score is computed from."""

    lm_log10_end: float
    # TAG_GROUPS group (or "other") of the last word and of the word before it ("none")
    last: str
    previous: str
    # no finite verb or modal anywhere: no clause yet ("Every time", "The last time")
    no_finite_verb: bool
    # opens with a subordinating word and holds one clause at most: its main clause is missing
    # ("If I pay by card", "When I open the app")
    main_clause_missing: bool
    # a comma-separated series with no "and" or "or" after its first comma
    open_series: bool
    # trailing digits, 0 to _MAX_DIGITS: a number being read out
    digits: int
    # an inverted question ("Which plan am I on", "Can you turn it off"): it may end on a
    # stranded preposition or a particle, so each last-word class weighs differently in one
    question: bool

    def vector(self) -> tuple[float, ...]:
        """The model's inputs, in FEATURE_NAMES order."""
        return (
            self.lm_log10_end,
            *(float(self.last == g) for g in GROUPS),
            *(float(self.previous == g) for g in GROUPS),
            float(self.no_finite_verb),
            float(self.main_clause_missing),
            float(self.open_series),
            self.digits / _MAX_DIGITS,
            float(self.question),
            *(float(self.question and self.last == g) for g in GROUPS),
            # a verb then a final preposition: a particle ("keeps cutting out") or a verb's
            # preposition still waiting for its object ("look into")
            float(self.previous in ("verb", "finite_verb") and self.last == "preposition"),
        )


FEATURE_NAMES = (
    "lm_log10_end",
    *(f"last_{g}" for g in GROUPS),
    *(f"previous_{g}" for g in GROUPS),
    "no_finite_verb",
    "main_clause_missing",
    "open_series",
    "digits",
    "question",
    *(f"question_last_{g}" for g in GROUPS),
    "verb_preposition",
)


class Tagger:
    """Penn Treebank part-of-speech tags from TextBlob's PatternTagger."""

    def __init__(self) -> None:
        from textblob.en import tag

        self._tag = tag

    @classmethod
    @cache
    def shipped(cls) -> Tagger:
        """The tagger with its lexicon, loaded once per process (about 0.7 s with TextBlob)."""
        tagger = cls()
        tagger.tags(["warm", "up"])  # the lexicon loads on first use
        return tagger

    def tags(self, tokens: list[str]) -> list[str]:
        """One tag per token."""
        return [t for _, t in self._tag(" ".join(tokens), tokenize=False)]


def _group(tag: str) -> str:
    return _GROUP_OF.get(tag, "other")


def inverted_question(tags: list[str]) -> bool:
    """Opens with an auxiliary or modal ("Can you", "Is there"), or with a wh-phrase followed by
    an auxiliary before any subject ("Which family plan am I", "How much does", "Who should I");
    after a subject ("When I open", "When the parcel arrives") the clause is subordinate."""
    if tags[0] in _INVERSION:
        return True
    if tags[0] not in _WH:
        return False
    for t in tags[1:]:
        if t in _INVERSION:
            return True
        if t in _SUBJECTS:
            return False
    return False


def with_subject_verbs(tags: list[str]) -> list[str]:
    """The tags, with the word after a clause-initial pronoun read as its verb: the lexicon tags
    "need" and "reset" as nouns, "crashes" as a plural and "pay" as a bare verb even in "I need",
    "It crashes", "If I pay"."""
    out = list(tags)
    for i in range(1, len(out)):
        subject = out[i - 1] == "PRP" and (i == 1 or out[i - 2] in ("IN", "CC", "WRB", ","))
        if subject and out[i] in ("NN", "JJ", "IN", "VB"):
            out[i] = "VBP"
        elif subject and out[i] == "NNS":
            out[i] = "VBZ"
    return out


def syntax(tokens: list[str], tags: list[str]) -> tuple[bool, bool, bool, int]:
    """(no finite verb, main clause missing, open series, trailing digits) of a tagged
    sentence."""
    finite = [i for i, t in enumerate(tags) if t in _FINITE]
    # an imperative's bare verb is its clause's verb ("Please renew my order", "Send it")
    bare = [i for i, t in enumerate(tags[:2]) if t == "VB" and (i == 0 or tags[0] in _LEAD_INS)]
    finite = sorted({*finite, *bare[:1]})
    opener = tags[0] in _OPENERS and not inverted_question(tags)
    main_clause_missing = opener and len(finite) <= 1
    commas = [i for i, w in enumerate(tokens) if w == ","]
    open_series = bool(commas) and not any(t == "CC" for t in tags[commas[0] :])
    digits = 0
    for word in reversed(tokens):
        # digits as the STT writes them, not every CD: "a new one" is not a number read out
        if not word.isdigit() or digits == _MAX_DIGITS:
            break
        digits += 1
    return not finite, main_clause_missing, open_series, digits


class SyntaxCompleteness:
    """Scores a transcript in [0, 1] from its syntax and the trigram."""

    def __init__(
        self,
        lm: EnglishTrigram | None = None,
        weights: CompletenessWeights | None = None,
        tagger: Tagger | None = None,
    ) -> None:
        self._lm = lm or EnglishTrigram.shipped()
        self._tagger = tagger or Tagger.shipped()
        self.weights = weights or CompletenessWeights(0.0, (0.0,) * len(FEATURE_NAMES))

    def features(self, text: str) -> Features | None:
        """The features of a transcript, or None when it has no words."""
        words = words_of(text)
        tokens = tokens_of(text)
        if not words or not tokens:
            return None
        # digits are numbers whatever the lexicon says (it tags a lone "2" or "4" as "IN")
        tagged = [
            "CD" if w.isdigit() else t
            for w, t in zip(tokens, self._tagger.tags(tokens), strict=True)
        ]
        tags = with_subject_verbs(tagged)
        # the comma is the tagger's own token, not a word of the sentence
        word_tags = [t for w, t in zip(tokens, tags, strict=True) if w != ","]
        no_finite, missing, series, digits = syntax(tokens, tags)
        return Features(
            lm_log10_end=self._lm.log10_end(words),
            last=_group(word_tags[-1]),
            previous=_group(word_tags[-2]) if len(word_tags) > 1 else "none",
            no_finite_verb=no_finite,
            main_clause_missing=missing,
            open_series=series,
            digits=digits,
            question=inverted_question(tags),
        )

    def score(self, features: Features) -> float:
        """P(finished) for these features."""
        z = self.weights.logit(features.vector())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def score_text(self, text: str) -> float:
        """P(finished) for a transcript (0 without words)."""
        f = self.features(text)
        return 0.0 if f is None else self.score(f)


# L2 penalties tried; the one with the best family-held-out log loss on the fit half is used
RIDGES = (0.1, 0.3, 1.0, 3.0, 10.0)
# the share of the fit half's finished questions (family-held-out) the threshold keeps on the
# short wait: more than half, so the e2e p50 goal holds with a margin; within that, the highest
# threshold, which cuts in least
FAST_SHARE = 0.6


@dataclass(frozen=True)
class SyntaxFit:
    """The fitted model, its penalty, and the threshold chosen for it."""

    model: SyntaxCompleteness
    ridge: float
    threshold: float


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


def fit(data: Sequence[Utterance]) -> SyntaxFit:
    """Fit on these utterances (the corpus's fit half)."""
    model = SyntaxCompleteness()
    rows, ys, groups = [], [], []
    for u in data:
        f = model.features(u.heard)
        if f is None:
            continue
        rows.append((1.0, *f.vector()))
        ys.append(float(u.label == "finished"))
        groups.append(u.family)
    x, y = np.array(rows), np.array(ys)

    def loss(r: float) -> float:
        p = np.clip(held_out(x, y, groups, r), 1e-9, 1 - 1e-9)
        return float(-np.mean(np.where(y == 1, np.log(p), np.log(1 - p))))

    ridge = min(RIDGES, key=loss)
    w = _newton(x, y, ridge)
    scores = held_out(x, y, groups, ridge)
    weights = CompletenessWeights(float(w[0]), tuple(float(v) for v in w[1:]))
    return SyntaxFit(
        SyntaxCompleteness(weights=weights),
        ridge,
        fast_threshold(scores[y == 1].tolist()),
    )
