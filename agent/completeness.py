"""How likely a transcript is to be a finished English sentence, from the words alone.

Audio end-of-turn models hear prosody, which synthetic and noisy speech bend; the transcript says
directly whether the words so far can end a sentence ("My order number is" cannot). The score
combines a generic English trigram model's probability of the sentence ending after the last two
words with a few facts of English grammar that a trigram cannot see, in a logistic model fitted
on the benchmark's "fit" clips (python -m benchmarks.gate_fit; docs/benchmarks.md).

The trigram model is CMU Sphinx's generic US English model (en-us.lm.bin, BSD-style licence),
shipped inside the pocketsphinx wheel: nothing downloads at run time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pocketsphinx import NGramModel, get_model_path, set_loglevel

# pocketsphinx reports log probabilities in base 1.0001
_LOG10_PER_UNIT = math.log10(1.0001)
# log10 P below this is "never" for the model; clamping keeps one rare pair from dominating
_LOG10_FLOOR = -4.0
# Words no English sentence ends on: articles, possessive determiners, coordinating and
# subordinating conjunctions, nominative pronouns and hesitation fillers ("each", "while" and
# "though" are left out: "five dollars each", "for a while", "it works, though"). A caller who stops
# on one of them is thinking, not finished ("I'd like to return the ...").
DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "your",
        "our",
        "their",
        "his",
        "its",
        "every",
        "and",
        "or",
        "but",
        "nor",
        "because",
        "if",
        "whether",
        "although",
        "unless",
        "than",
        "whereas",
        "whenever",
        "wherever",
        "i",
        "we",
        "they",
        "he",
        "she",
        "um",
        "uh",
        "er",
        "erm",
    ]
)
# A statement or a yes/no question rarely ends on a preposition ("Can you send the invoice to
# ..."); words that are mostly verb particles at the end ("cut off", "showed up", "comes out")
# are left to the trigram model.
PREPOSITIONS = frozenset(
    [
        "about",
        "above",
        "across",
        "after",
        "against",
        "among",
        "at",
        "before",
        "behind",
        "below",
        "beneath",
        "beside",
        "between",
        "beyond",
        "by",
        "despite",
        "during",
        "except",
        "for",
        "from",
        "in",
        "inside",
        "into",
        "like",
        "near",
        "of",
        "on",
        "onto",
        "outside",
        "past",
        "since",
        "through",
        "to",
        "toward",
        "towards",
        "under",
        "until",
        "upon",
        "via",
        "with",
        "within",
        "without",
    ]
)
AUXILIARIES = frozenset(
    [
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "'s",
        "'re",
        "'m",
    ]
)
# A question may end on a preposition when its wh-word is that preposition's object, moved to
# the front with the auxiliary inverted: "Who should I talk to?", "Which plan am I on?". Only
# these wh-words can be such an object ("how" and "why" cannot: "How do I get to ...").
STRANDING_WH = frozenset(["what", "which", "who", "whom", "whose", "where"])
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation dropped: an STT's punctuation at a pause is a guess."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


@dataclass(frozen=True)
class Features:
    """What the score is computed from."""

    lm_log10_end: float
    dangling: bool
    preposition_final: bool
    auxiliary_final: bool
    # a wh-question with inversion, where a final preposition can be stranded
    inverted_wh: bool

    def vector(self) -> tuple[float, ...]:
        """The model's inputs, in FEATURE_NAMES order."""
        stranded = self.preposition_final and self.inverted_wh
        return (
            self.lm_log10_end,
            float(self.preposition_final and not stranded),
            float(stranded),
            float(self.auxiliary_final),
        )


FEATURE_NAMES = ("lm_log10_end", "preposition_final", "stranded_preposition", "auxiliary_final")


@dataclass(frozen=True)
class CompletenessWeights:
    """Logistic weights over Features.vector() (FEATURE_NAMES order), fitted by
    benchmarks/gate_fit.py."""

    bias: float
    coefficients: tuple[float, ...]

    def logit(self, x: tuple[float, ...]) -> float:
        """The linear score for one feature vector."""
        return self.bias + sum(w * xi for w, xi in zip(self.coefficients, x, strict=True))


# Fitted on the "fit" half of benchmarks/data (python -m benchmarks.gate_fit).
DEFAULT_WEIGHTS = CompletenessWeights(bias=9.18, coefficients=(4.149, -7.528, 1.226, -4.747))


def _inverted_wh(words: list[str]) -> bool:
    """Opens with a wh-word that can be a preposition's object, then an auxiliary within the
    next two words ("what's", "who am", "which plan am"), as a question that strands one does."""
    opener, _, contracted = words[0].partition("'")
    if opener not in STRANDING_WH or len(words) < 3:
        return False
    return bool(contracted) or any(w in AUXILIARIES for w in words[1:3])


class EnglishTrigram:
    """P(sentence ends | last two words) from the generic US English trigram model."""

    def __init__(self, path: Path) -> None:
        set_loglevel("FATAL")
        self._lm = NGramModel.readfile(str(path))

    @classmethod
    @cache
    def shipped(cls) -> EnglishTrigram:
        """The model inside the pocketsphinx wheel, loaded once per process (about 50 ms)."""
        return cls(Path(get_model_path()) / "en-us" / "en-us.lm.bin")

    def log10_end(self, words: list[str]) -> float:
        """log10 P(</s> | the last two words); an unknown word shortens the history."""
        last = words[-1]
        prev = words[-2] if len(words) > 1 else "<s>"
        if not self._known(last):
            # a name, number or code the model has never seen: no history it could use
            history: list[str] = []
        elif prev != "<s>" and not self._known(prev):
            history = [last]
        else:
            history = [last, prev]  # most recent first, as pocketsphinx takes it
        units = self._lm.prob(["</s>", *history])
        return max(units * _LOG10_PER_UNIT, _LOG10_FLOOR)

    def _known(self, word: str) -> bool:
        return self._lm.prob([word]) > -(2**28)


class TextCompleteness:
    """Scores a transcript in [0, 1]: how likely the caller's sentence is finished."""

    def __init__(
        self, lm: EnglishTrigram | None = None, weights: CompletenessWeights = DEFAULT_WEIGHTS
    ) -> None:
        self._lm = lm or EnglishTrigram.shipped()
        self.weights = weights

    def features(self, text: str) -> Features | None:
        """The features of a transcript, or None when it has no words."""
        words = words_of(text)
        if not words:
            return None
        last = words[-1]
        return Features(
            lm_log10_end=self._lm.log10_end(words),
            dangling=last in DANGLING,
            preposition_final=last in PREPOSITIONS,
            auxiliary_final=last in AUXILIARIES or last.endswith(("'s", "'re", "'m")),
            inverted_wh=_inverted_wh(words),
        )

    def score(self, features: Features) -> float:
        """P(finished) for these features; a dangling last word is never finished."""
        if features.dangling:
            return 0.0
        z = self.weights.logit(features.vector())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))
