"""The turn gate before its syntax model, for comparison: the trigram plus word lists.

Its rules covered final articles, conjunctions and pronouns (never finished), final prepositions
(unless stranded by an inverted wh-question) and final auxiliaries, with weights fitted on the
project's own 24 paused clips. benchmarks/gate_generalisation.py and benchmarks/turn_taking.py
replay its trade-off curve beside the shipped model's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.completeness import CompletenessWeights, EnglishTrigram, words_of

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


# as fitted on the project's own clips, and its threshold
WEIGHTS = CompletenessWeights(bias=9.18, coefficients=(4.149, -7.528, 1.226, -4.747))
FINISHED_AT = 0.884


def _inverted_wh(words: list[str]) -> bool:
    """Opens with a wh-word that can be a preposition's object, then an auxiliary within the
    next two words ("what's", "who am", "which plan am"), as a question that strands one does."""
    opener, _, contracted = words[0].partition("'")
    if opener not in STRANDING_WH or len(words) < 3:
        return False
    return bool(contracted) or any(w in AUXILIARIES for w in words[1:3])


class WordListCompleteness:
    """The old score in [0, 1]: how likely the caller's sentence is finished."""

    def __init__(self) -> None:
        self._lm = EnglishTrigram.shipped()

    def score_text(self, text: str) -> float:
        """P(finished) for a transcript (0 without words; a dangling last word is never)."""
        words = words_of(text)
        if not words or words[-1] in DANGLING:
            return 0.0
        last = words[-1]
        f = Features(
            lm_log10_end=self._lm.log10_end(words),
            dangling=False,
            preposition_final=last in PREPOSITIONS,
            auxiliary_final=last in AUXILIARIES or last.endswith(("'s", "'re", "'m")),
            inverted_wh=_inverted_wh(words),
        )
        z = WEIGHTS.logit(f.vector())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))
