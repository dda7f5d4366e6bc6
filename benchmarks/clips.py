"""The spoken questions in benchmarks/data, and where each one's speech truly ends."""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

DATA_DIR = Path(__file__).with_name("data")
MANIFEST = DATA_DIR / "clips.json"
SAMPLE_RATE = 16_000

ClipKind = Literal["complete", "paused"]


class ClipDataError(ValueError):
    """benchmarks/data is missing or does not match its manifest."""


@dataclass(frozen=True)
class Segment:
    """One stretch of speech: what is said, and its first and one-past-last speech sample."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Clip:
    """A spoken question; a paused clip has two segments with a 500-700 ms pause between."""

    name: str
    kind: ClipKind
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        """The whole question, as a perfect transcriber would write it."""
        return " ".join(s.text for s in self.segments)

    @property
    def speech_end(self) -> int:
        """One past the last speech sample: the true end of the user's turn."""
        return self.segments[-1].end

    def to_json(self) -> dict[str, Any]:
        """The manifest entry for this clip."""
        return {
            "name": self.name,
            "kind": self.kind,
            "segments": [{"text": s.text, "start": s.start, "end": s.end} for s in self.segments],
        }

    def samples(self) -> np.ndarray:
        """The clip's int16 samples at 16 kHz."""
        return _load_samples(self.name)


def read_wav(path: Path) -> np.ndarray:
    """int16 samples of a 16 kHz mono 16-bit WAV; ClipDataError names the file otherwise."""
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, 1, 2):
                raise ClipDataError(
                    f"{path}: expected 16 kHz mono 16-bit PCM, got {w.getframerate()} Hz, "
                    f"{w.getnchannels()} channel(s), {8 * w.getsampwidth()}-bit"
                )
            return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).copy()
    except (OSError, wave.Error) as exc:
        raise ClipDataError(f"{path}: cannot read WAV ({exc})") from None


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Write int16 samples as a 16 kHz mono WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.astype(np.int16).tobytes())


@cache
def _load_samples(name: str) -> np.ndarray:
    return read_wav(DATA_DIR / f"{name}.wav")


@cache
def load_clips() -> tuple[Clip, ...]:
    """Every clip in the manifest, in order."""
    try:
        entries = json.loads(MANIFEST.read_text())
        return tuple(
            Clip(
                e["name"],
                e["kind"],
                tuple(Segment(s["text"], int(s["start"]), int(s["end"])) for s in e["segments"]),
            )
            for e in entries
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ClipDataError(
            f"{MANIFEST}: unreadable clip manifest ({exc}); run `python -m benchmarks.make_clips`"
        ) from None


def clips_of(kind: ClipKind) -> tuple[Clip, ...]:
    """The clips of one kind."""
    return tuple(c for c in load_clips() if c.kind == kind)
