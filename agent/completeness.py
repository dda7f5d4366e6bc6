"""How likely a transcript is to be a finished English sentence, from its syntax.

Audio end-of-turn models hear prosody, which synthetic and noisy speech bend; the transcript says
directly whether the words so far can end a sentence ("My order number is" cannot). The score is
a logistic model (fitted by python -m benchmarks.gate_fit; docs/benchmarks.md) over:
- the syntax of the words so far, from a part-of-speech tagger rather than word lists: the
  classes of the last two words (a complementizer, relative pronoun, preposition or determiner
  opens a phrase that is not there yet), whether a clause opener at the start still lacks its
  main clause ("If I pay by card"), whether there is a finite verb at all ("Every time") and
  whether a long noun phrase without one opens the sentence ("The tickets for the show on
  Monday"), an open series ("a charger, a case"), digits being read out, an ordinal closing a
  date, a final filler ("I need, um"), a determiner and a noun of a moment that work as a
  conjunction ("the moment", "every time"), and whether the sentence is an inverted question, whose wh-phrase may
  strand a final preposition ("Which plan am I on?");
- a generic English trigram model's probability of the sentence ending after the last two words.

The tagger is TextBlob's PatternTagger (Brill's lexicon and contextual rules, trained on the
Brown corpus and Penn Treebank; TextBlob MIT, Pattern BSD), whose lexicon ships inside the
textblob wheel. The trigram model is CMU Sphinx's generic US English model (en-us.lm.bin,
BSD-style licence), inside the pocketsphinx wheel. Nothing downloads at run time; both load
once per process (agent/preload.py loads them in the worker's forkserver).
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
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation dropped: an STT's punctuation at a pause is a guess."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


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
    "adverb": ("RB", "RBR", "RBS"),
    "interjection": ("UH",),
    "particle": ("RP",),
    "pronoun": ("PRP", "EX"),
    "verb": ("VB", "VBG", "VBN"),
    "finite_verb": ("VBD", "VBP", "VBZ"),
}
_GROUP_OF = {tag: group for group, tags in TAG_GROUPS.items() for tag in tags}
GROUPS = tuple(TAG_GROUPS)
_FINITE = frozenset(["MD", "VBD", "VBP", "VBZ"])
_VERBS = ("VB", "VBD", "VBP", "VBZ")
# a clause opener: a subordinating conjunction or a wh-adverb
_OPENERS = frozenset(["IN", "WRB"])
# after an opener, these mean an inverted question ("When will it arrive"), not a clause
_INVERSION = frozenset(["MD", "VBD", "VBP", "VBZ"])
_WH = frozenset(TAG_GROUPS["wh"])
# classes of a word that can be a whole utterance; adverbs ("So", "Also"), conjunctions, pronouns
# ("I ...") and the like open one
_STANDALONE = frozenset(["interjection", "noun", "proper_noun", "adjective", "number"])
_SUBJECTS = frozenset(["PRP", "EX", "DT", "PRP$", "NNP"])
# what may come before an imperative's verb: "Please", "Just", "So"
_LEAD_INS = frozenset(["UH", "RB", "VB", "NN", "NNP"])
_TOKEN = re.compile(
    r"[a-z]+(?=n't)|n't|'(?:s|m|d|re|ve|ll)\b|[a-z0-9]+(?:-[a-z0-9]+)*|,", re.IGNORECASE
)
_MAX_DIGITS = 4
# Hesitations: interjections a caller says while thinking, not as an answer
HESITATIONS = frozenset(["um", "uh", "er", "erm", "hmm", "mm", "well", "like"])
# Answers the lexicon tags as determiners or adjectives ("no", "okay")
ANSWERS = frozenset(["yes", "no", "yeah", "yep", "nope", "okay", "ok"])
# Penn Treebank's particles (RP): the closed class of adverbs that complete a phrasal verb
PARTICLES = frozenset(["up", "out", "off", "on", "in", "down", "back", "over", "away", "around"])
# Fillers: a caller who ends on one is still thinking ("I need, um")
FILLERS = frozenset(["um", "uh", "er", "erm", "hmm"])
# Nouns of a moment, which with a determiner work as a conjunction that needs its clause ("the
# moment I open it", "every time I call", "by the time I got home")
MOMENTS = frozenset(["time", "moment", "minute", "second", "instant"])
# an ordinal as an STT writes it: "1st", "22nd", "18th"; the treebank tags ordinals JJ
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)
# Participles that open a condition as a conjunction does ("Provided the order arrives",
# "Given that I paid"); the lexicon tags them as verbs
PARTICIPLE_OPENERS = frozenset(
    ["provided", "providing", "given", "assuming", "supposing", "considering", "seeing"]
)
# Auxiliaries and modals, which open a question: a capitalised first one is not a proper noun
# ("Am I talking to a robot")
AUXILIARIES = frozenset(
    [
        *("am", "is", "are", "was", "were", "do", "does", "did", "have", "has", "had"),
        *("can", "could", "will", "would", "shall", "should", "may", "might", "must"),
    ]
)
# subordinators the lexicon tags otherwise (as an adverb and a name)
ADVERB_CONJUNCTIONS = frozenset(["once", "whilst"])
# Words that open a clause inside a sentence: complementizers and subordinating conjunctions
# (prepositions share their tag, IN, so they are named); relative and wh-words by their tags
SUBORDINATORS = frozenset(
    [
        *("that", "because", "if", "whether", "although", "though", "unless", "whereas"),
        *ADVERB_CONJUNCTIONS,
    ]
)
# words of a verbless opening noun phrase from which it reads as a subject, not an answer
SUBJECT_WORDS = 5
# "be", whose complement may be an infinitive ("What's the best way to ...")
FORMS_OF_BE = frozenset(["be", "is", "'s", "are", "'re", "am", "'m", "was", "were", "been"])
# Demonstratives, which take no possessive: their "'s" is "is" ("That's fine", "Here's the
# problem")
DEMONSTRATIVES = frozenset(["that", "this", "here"])
# what begins a clause's subject, after the word that opens the clause
_SUBJECT_STARTS = frozenset(["DT", "PRP", "PRP$", "NNP", "NNPS", "EX", "NN", "NNS"])
# wh-words that can be the object of a stranded preposition ("What is it for?", "Where did it
# come from?"); "how", "why" and "when" cannot ("How do I get to ...")
_STRANDING_WH = frozenset(["WP", "WDT", "WP$"])


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
    # an inverted question ("Can you turn it off", "Which plan am I on"): each last-word class
    # weighs differently in one
    question: bool
    # the whole utterance is one word that can stand alone: an answer or an acknowledgement
    # ("Yes", "Mm-hm", "Thanks"), not an opener ("So", "And", "Because")
    acknowledgement: bool
    # a wh-question whose wh-phrase may be the object of a final preposition, stranded by the
    # inversion ("Which plan am I on?", "Who should I talk to?"); a yes/no question cannot
    # ("Can you send the invoice to ...")
    wh_question: bool
    # ends on an ordinal: the day of a date, said whole ("due on April 18th", "on the 3rd")
    ordinal: bool
    # ends on a filler ("I need, um"): the caller is still thinking
    filler: bool
    # ends on a determiner and a noun of a moment ("the moment", "every time"): a conjunction
    # whose clause is still to come, unless a sentence ends on it ("all the time")
    moment: bool
    # every finite verb belongs to a clause opened inside the sentence, so a clause still lacks
    # its verb ("I'm surprised that the office", "The password that I set on Tuesday")
    clause_short: bool
    # no finite verb, and a determiner opens SUBJECT_WORDS words or more: a subject waiting for
    # its verb ("The tickets for the show on Monday"), where a shorter noun phrase can be a
    # whole answer ("The earlier one please")
    subject_without_verb: bool

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
            float(self.wh_question and self.last in ("preposition", "to")),
            # a verb then a final preposition: a particle ("keeps cutting out") or a verb's
            # preposition still waiting for its object ("look into")
            float(self.previous in ("verb", "finite_verb") and self.last == "preposition"),
            float(self.ordinal),
            float(self.filler),
            float(self.moment),
            float(self.clause_short),
            float(self.subject_without_verb),
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
    "stranded_preposition",
    "verb_preposition",
    "ordinal",
    "filler",
    "moment",
    "clause_short",
    "subject_without_verb",
)


@dataclass(frozen=True)
class CompletenessWeights:
    """Logistic weights over Features.vector() (FEATURE_NAMES order), fitted by
    benchmarks/gate_fit.py."""

    bias: float
    coefficients: tuple[float, ...]

    def logit(self, x: tuple[float, ...]) -> float:
        """The linear score for one feature vector."""
        return self.bias + sum(w * xi for w, xi in zip(self.coefficients, x, strict=True))


# Fitted on the "fit" half of the corpus and the clips (python -m benchmarks.gate_fit).
DEFAULT_WEIGHTS = CompletenessWeights(
    bias=4.67,
    coefficients=(
        4.201,
        -0.219,
        -2.162,
        -0.624,
        -2.213,
        0.0,
        0.469,
        -0.933,
        0.761,
        1.055,
        0.73,
        -0.813,
        0.748,
        2.0,
        -0.612,
        2.683,
        -0.345,
        -0.005,
        -0.138,
        -1.562,
        0.415,
        0.038,
        0.312,
        -0.099,
        -0.711,
        -0.447,
        0.213,
        -0.583,
        -0.476,
        0.0,
        0.785,
        0.142,
        -0.587,
        -0.84,
        -5.108,
        -4.455,
        -0.207,
        2.507,
        -0.589,
        0.06,
        0.16,
        -0.48,
        0.0,
        -0.451,
        0.229,
        -0.466,
        -0.947,
        0.206,
        1.287,
        0.054,
        0.088,
        0.944,
        0.649,
        1.763,
        4.764,
        0.552,
        2.365,
        -1.126,
        -1.607,
        -4.226,
        -1.089,
    ),
)


class Tagger:
    """Penn Treebank part-of-speech tags from TextBlob's PatternTagger."""

    def __init__(self) -> None:
        # imported here: textblob pulls in nltk (about 0.6 s), which only a worker needs
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


def _acknowledgement(words: list[str], tags: list[str]) -> bool:
    """One word that is a whole utterance: an answer, a thanks, a backchannel ("Yes", "No",
    "Billing", "Mm-hm"), not a hesitation or an opener ("Um", "So", "I")."""
    if len(words) != 1 or words[0].lower() in HESITATIONS:
        return False
    return words[0].lower() in ANSWERS or _group(tags[0]) in _STANDALONE


def _retagged(word: str, tag: str, first: bool) -> str:
    """The treebank's tag where the lexicon's one tag per word is wrong for what an STT writes:
    digits are numbers (it tags a lone "2" or "4" as "IN"), ordinals adjectives, "please" an
    interjection (it tags it as a verb), and a participle that opens the sentence as a
    conjunction ("Provided", "Given") a subordinator."""
    if word.isdigit():
        return "CD"
    if _ORDINAL.fullmatch(word):
        return "JJ"
    if word.lower() == "please":
        return "UH"
    if first and word.lower() in PARTICIPLE_OPENERS:
        return "IN"
    return tag


def with_conjunctions(tokens: list[str], tags: list[str]) -> list[str]:
    """The tags, with "once" and "whilst" before a subject read as the subordinators they are
    there (IN): the lexicon tags them as an adverb and a name ("Once the car has been
    serviced")."""
    return [
        "IN"
        if w.lower() in ADVERB_CONJUNCTIONS and i + 1 < len(tags) and tags[i + 1] in _SUBJECT_STARTS
        else t
        for i, (w, t) in enumerate(zip(tokens, tags, strict=True))
    ]


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


def with_particles(tokens: list[str], tags: list[str]) -> list[str]:
    """The tags, with a final adverbial particle after a verb (and its pronoun) read as a
    particle, RP: the lexicon has one tag per word and gives "on", "out" and "in" their
    preposition's, so "won't turn on", "log out" and "log in" would end on a preposition."""
    out = list(tags)
    if len(tokens) < 2 or tokens[-1].lower() not in PARTICLES or out[-1] not in ("IN", "RB"):
        return out
    # the verb comes before its object: a pronoun ("turn it on") or a short noun phrase ("pick
    # the car up")
    before = out[-2]
    if before == "PRP" and len(out) > 2:
        before = out[-3]
    elif before in ("NN", "NNS") and len(out) > 3 and out[-3] in ("DT", "PRP$"):
        before = out[-4]
    # a lexical verb: the present-tense forms are left out, as they hold the auxiliaries of an
    # inverted question whose preposition is stranded ("Which plan am I on?")
    if before in ("VB", "VBD", "VBG", "VBN"):
        out[-1] = "RP"
    # ... or a particle coordinated with the verb's particle ("turning it off and on")
    elif (
        len(tokens) > 3
        and tokens[-2].lower() in ("and", "or")
        and with_particles(tokens[:-2], out[:-2])[-1] == "RP"
    ):
        out[-3], out[-1] = "RP", "RP"
    return out


def with_infinitive_verbs(tokens: list[str], tags: list[str]) -> list[str]:
    """The tags, with the word after infinitival "to" read as a verb when a particle or an
    object follows it: the lexicon tags "log" and "book" as nouns, so "to log out" would end on
    a preposition."""
    out = list(tags)
    for i in range(1, len(out) - 1):
        follows = tokens[i + 1].lower() in PARTICLES or out[i + 1] in ("DT", "PRP", "PRP$")
        if out[i - 1] == "TO" and out[i] in ("NN", "JJ") and follows:
            out[i] = "VB"
    return out


def with_subject_verbs(tags: list[str]) -> list[str]:
    """The tags, with the word after a clause-initial pronoun read as its verb, and the word
    after an opening interjection as an imperative: the lexicon tags "need" and "reset" as nouns,
    "crashes" as a plural and "pay" as a bare verb even in "I need", "It crashes", "If I pay",
    and "transfer" as a noun in "Please transfer me"."""
    out = list(tags)
    # "Please" opens a request, so the word after it is its verb ("Please transfer me")
    if len(out) > 1 and out[0] == "UH" and out[1] in ("NN", "NNS", "VBP", "JJ"):
        out[1] = "VB"
    # a first word with an object after it is an imperative's verb ("Book the plumber", "Email
    # me the receipt")
    if len(out) > 1 and out[0] in ("NN", "NNP") and out[1] in ("DT", "PRP", "PRP$"):
        out[0] = "VB"
    for i in range(1, len(out)):
        # after a modal (and an adverb: "should really rest") comes a bare verb ("should rest")
        after_modal = out[i - 1] == "MD" or (i > 1 and out[i - 2] == "MD" and out[i - 1] == "RB")
        if after_modal and out[i] in ("NN", "VBP"):
            out[i] = "VB"
            continue
        subject = out[i - 1] == "PRP" and (i == 1 or out[i - 2] in ("IN", "CC", "WRB", "WDT", ","))
        if subject and out[i] in ("NN", "JJ", "IN", "VB"):
            out[i] = "VBP"
        elif subject and out[i] == "NNS":
            out[i] = "VBZ"
        elif subject and out[i] == "VBN":
            # a participle straight after its subject is the past tense ("I paid", "I set")
            out[i] = "VBD"
    return out


def with_contractions(tokens: list[str], tags: list[str]) -> list[str]:
    """The tags, with "'s" after a pronoun, a wh-word or a demonstrative read as "is" (VBZ), not
    a possessive: "What's the fee for", "Where's the nearest branch", "It's broken", "That's
    fine"."""
    return [
        "VBZ"
        if w == "'s"
        and i > 0
        and (
            tags[i - 1] in ("WP", "WRB", "WDT", "PRP", "EX")
            or tokens[i - 1].lower() in DEMONSTRATIVES
        )
        else t
        for i, (w, t) in enumerate(zip(tokens, tags, strict=True))
    ]


def finite_verbs(tags: list[str]) -> list[int]:
    """Where the finite verbs and modals are, with an imperative's bare verb, which is its
    clause's verb ("Please renew my order", "Send it")."""
    finite = [i for i, t in enumerate(tags) if t in _FINITE]
    bare = [i for i, t in enumerate(tags[:2]) if t == "VB" and (i == 0 or tags[0] in _LEAD_INS)]
    return sorted({*finite, *bare[:1]})


def strands(tokens: list[str], tags: list[str]) -> bool:
    """Whether an inverted question's wh-phrase can be the object of its final preposition:
    only an object wh-word can ("What is it for", "Where did it come from"), and a final "to"
    is a preposition only after a lexical verb ("Who should I talk to"), not after "be", where it
    opens an infinitive ("What's the best way to")."""
    # a final subordinator ("Where's the form that") opens a clause instead
    if not (tags[0] in _STRANDING_WH or tokens[0].lower() == "where") or (
        tokens[-1].lower() in SUBORDINATORS
    ):
        return False
    if tokens[-1].lower() != "to":
        return True
    return any(
        t.startswith("VB") and w.lower() not in FORMS_OF_BE
        for w, t in zip(tokens[:-1], tags[:-1], strict=True)
    )


def clause_short(tokens: list[str], tags: list[str], question: bool) -> bool:
    """Whether every finite verb is taken by a clause opened inside the sentence (by a
    subordinator or complementizer before its subject, or a relative or wh-word), so one clause
    still lacks its verb; the first word of an inverted `question` opens none."""
    start = 1 if question else 0
    openers = 0
    for i in range(start, len(tags)):
        word, tag = tokens[i].lower(), tags[i]
        before_subject = i + 1 < len(tags) and tags[i + 1] in _SUBJECT_STARTS
        # "that" between a noun and a verb is a relative pronoun ("The bill that came"), and a
        # pronoun there opens a relative clause without one ("The woman I spoke to")
        after_noun = i > 0 and tags[i - 1] in ("NN", "NNS") and i + 1 < len(tags)
        relative = after_noun and (word == "that" or tag == "PRP") and tags[i + 1] in _FINITE
        if (tag == "IN" and word in SUBORDINATORS and before_subject) or tag in _WH or relative:
            openers += 1
    return openers > 0 and len(finite_verbs(tags)) <= openers


def syntax(tokens: list[str], tags: list[str]) -> tuple[bool, bool, bool, int]:
    """(no finite verb, main clause missing, open series, trailing digits) of a tagged
    sentence."""
    finite = finite_verbs(tags)
    # a focusing adverb may come first: "Even if", "Only when", "Right after"
    first = 1 if len(tags) > 1 and tags[0] == "RB" and tags[1] in _OPENERS else 0
    opener = tags[first] in _OPENERS and not inverted_question(tags[first:])
    # an opener heading a clause of its own; with no verb at all it is a fragment, which
    # no_finite_verb covers ("Of course", "By email please")
    main_clause_missing = opener and len(finite) == 1
    commas = [i for i, w in enumerate(tokens) if w == ","]
    # a comma after a first word that can stand alone ends a lead-in, not a series item: "Okay,
    # great", "Yes, please do"
    if commas and commas[0] == 1 and _acknowledgement(tokens[:1], tags[:1]):
        commas = commas[1:]
    # ... unless what follows the last comma opens a clause of its own ("It arrived damaged,
    # what should I do", "I need help, I think"): that is a second sentence, not a series
    last_part = tags[commas[-1] + 1 :] if commas else []
    new_clause = bool(last_part) and (
        last_part[0] in _WH
        or last_part[0] == "PRP"
        or "MD" in last_part
        or (last_part[0] in _VERBS and last_part[1:2] == ["PRP"])
    )
    # ... or it is one word that closes the sentence, not an item: "Send me a new one, please"
    closing = len(last_part) == 1 and last_part[0] in ("UH", "RB")
    open_series = bool(commas) and not (new_clause or closing) and "CC" not in tags[commas[0] :]
    digits = 0
    for word in reversed(tokens):
        # digits as the STT writes them, not every CD: "a new one" is not a number read out
        if not word.isdigit() or digits == _MAX_DIGITS:
            break
        digits += 1
    return not finite, main_clause_missing, open_series, digits


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
        self,
        lm: EnglishTrigram | None = None,
        weights: CompletenessWeights | None = None,
        tagger: Tagger | None = None,
    ) -> None:
        self._lm = lm or EnglishTrigram.shipped()
        self._tagger = tagger or Tagger.shipped()
        self.weights = weights or DEFAULT_WEIGHTS

    def features(self, text: str) -> Features | None:
        """The features of a transcript, or None when it has no words."""
        words = words_of(text)
        tokens = tokens_of(text)
        if not words or not tokens:
            return None
        # the lexicon reads a capitalised unknown word as a name, and "Am" is not one
        heard = [tokens[0].lower(), *tokens[1:]] if tokens[0].lower() in AUXILIARIES else tokens
        tagged = [
            _retagged(w, t, i == 0)
            for i, (w, t) in enumerate(zip(tokens, self._tagger.tags(heard), strict=True))
        ]
        tags = with_particles(
            tokens,
            with_infinitive_verbs(
                tokens,
                with_subject_verbs(with_contractions(tokens, with_conjunctions(tokens, tagged))),
            ),
        )
        # the comma is the tagger's own token, not a word of the sentence
        word_tags = [t for w, t in zip(tokens, tags, strict=True) if w != ","]
        no_finite, missing, series, digits = syntax(tokens, tags)
        question = inverted_question(tags)
        return Features(
            lm_log10_end=self._lm.log10_end(words),
            last=_group(word_tags[-1]),
            previous=_group(word_tags[-2]) if len(word_tags) > 1 else "none",
            no_finite_verb=no_finite,
            main_clause_missing=missing,
            open_series=series,
            digits=digits,
            question=question,
            acknowledgement=_acknowledgement([w for w in tokens if w != ","], word_tags),
            wh_question=question and strands(tokens, tags),
            ordinal=bool(_ORDINAL.fullmatch(words[-1])),
            filler=words[-1] in FILLERS,
            moment=words[-1] in MOMENTS
            and len(word_tags) > 1
            and _group(word_tags[-2]) in ("determiner", "adjective"),
            clause_short=clause_short(tokens, tags, question),
            subject_without_verb=no_finite
            and tags[0] in ("DT", "PRP$")
            and len(word_tags) >= SUBJECT_WORDS,
        )

    def score(self, features: Features) -> float:
        """P(finished) for these features; a one-word answer or acknowledgement always is: a
        long wait after "Yes" keeps the caller waiting, and after "mm-hm" over a reply it would
        commit the backchannel as a turn once the reply ends."""
        if features.acknowledgement:
            return 1.0
        z = self.weights.logit(features.vector())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def score_text(self, text: str) -> float:
        """P(finished) for a transcript (0 without words)."""
        f = self.features(text)
        return 0.0 if f is None else self.score(f)
