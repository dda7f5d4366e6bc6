"""Load the FAQ file and match a user turn against its questions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process

# Words that change nothing about which question was asked. Removing them lets "um so what
# are your opening hours please" score like the plain question.
_FILLERS = frozenset(
    [
        "um",
        "umm",
        "uh",
        "uhh",
        "er",
        "erm",
        "hmm",
        "ah",
        "oh",
        "hey",
        "hi",
        "hello",
        "so",
        "well",
        "okay",
        "ok",
        "please",
        "just",
        "like",
        "actually",
        "basically",
        "kindly",
    ]
)
_NON_WORD = re.compile(r"[^\w\s]")


class FaqFileError(ValueError):
    """A malformed FAQ file; str() is one line naming the file and the entry."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, questions: list[str]) -> list[str]:
        if any(not normalise(q) for q in questions):
            raise ValueError("every question needs at least one word that is not a filler")
        return questions


class _FaqFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entries: list[_Entry] = Field(min_length=1)


@dataclass(frozen=True)
class FaqEntry:
    """One cached answer and the questions (with variants) it answers."""

    id: str
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class FaqMatch:
    """A user turn that an FAQ entry answers."""

    entry: FaqEntry
    score: float


def normalise(text: str) -> str:
    """Lower-case words only: no accents' width variants, punctuation, fillers or extra spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    words = _NON_WORD.sub(" ", text).split()
    return " ".join(w for w in words if w not in _FILLERS)


class Faq:
    """The FAQ entries with a fuzzy matcher over their normalised question variants."""

    def __init__(self, entries: list[FaqEntry], threshold: float) -> None:
        self.entries = tuple(entries)
        self.threshold = threshold
        self._variants: list[str] = []
        self._owners: list[FaqEntry] = []
        for entry in entries:
            for question in entry.questions:
                self._variants.append(normalise(question))
                self._owners.append(entry)
        # token_sort_ratio is at most 200 * shorter / (len_a + len_b), so a turn longer than
        # longest * (200 / threshold - 1) cannot reach the threshold: reject it by length alone.
        longest = max((len(v) for v in self._variants), default=0)
        self._max_query_len = int(longest * (200 / threshold - 1)) + 1

    @classmethod
    def load(cls, path: Path, threshold: float) -> Faq:
        """Read and validate a FAQ YAML file."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FaqFileError(f"FAQ file {path}: cannot be read ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise FaqFileError(f"FAQ file {path}: not valid YAML ({exc})") from None
        try:
            parsed = _FaqFile.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "top level"
            raise FaqFileError(f"FAQ file {path}: {where}: {first['msg']}") from None
        ids = [e.id for e in parsed.entries]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise FaqFileError(f"FAQ file {path}: entries: duplicate id {duplicates[0]!r}")
        entries = [FaqEntry(e.id, tuple(e.questions), e.answer.strip()) for e in parsed.entries]
        return cls(entries, threshold)

    def match(self, user_text: str) -> FaqMatch | None:
        """The entry whose question best matches the turn, or None below the threshold."""
        query = normalise(user_text)
        if not query or len(query) > self._max_query_len:
            return None
        # ratio on whole (word-sorted) strings, not partial_ratio: "opening hours on christmas"
        # must not match "opening hours" just because it contains it.
        best = process.extractOne(
            query, self._variants, scorer=fuzz.token_sort_ratio, score_cutoff=self.threshold
        )
        if best is None:
            return None
        _, score, index = best
        return FaqMatch(self._owners[index], float(score))
