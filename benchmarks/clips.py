"""The spoken questions in benchmarks/data, and where each one's speech truly ends.

Every synthetic clip carries a low noise floor (pink noise, NOISE_FLOOR_DBFS RMS) over its whole
length, pauses included, so a VAD never hears digital silence; `noise_floor` makes that noise,
and the benchmark microphone sends the same noise while idle. `real_recordings` are short
recordings of real voices (benchmarks/data/real, sources in SOURCES.md there) with no labels.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

DATA_DIR = Path(__file__).with_name("data")
MANIFEST = DATA_DIR / "clips.json"
REAL_DIR = DATA_DIR / "real"
REAL_MANIFEST = REAL_DIR / "recordings.json"
SAMPLE_RATE = 16_000
# RMS level of the noise under every clip and of the idle microphone, dB below int16 full scale
NOISE_FLOOR_DBFS = -60.0

ClipKind = Literal["complete", "paused", "backchannel"]
# what the speech before a paused clip's pause is: words that cannot end a sentence ("My order
# number is"), or a finished sentence after which the caller goes on ("I bought a laptop")
Prefix = Literal["unfinished", "sentence"]
# thresholds are fitted on "fit" clips and reported on "report" clips
Split = Literal["fit", "report"]

KINDS: tuple[str, ...] = get_args(ClipKind)
PREFIXES: tuple[str, ...] = get_args(Prefix)
SPLITS: tuple[str, ...] = get_args(Split)


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
    """A spoken question, or a backchannel ("uh-huh").

    A paused clip has two segments with `pause_ms` (300-1,200 ms, the true gap between the
    first segment's last speech sample and the second's first) of noise floor between; its
    `prefix` says whether the first segment could end a sentence. Complete and backchannel
    clips have one segment and neither prefix nor pause.
    """

    name: str
    kind: ClipKind
    segments: tuple[Segment, ...]
    voice: str
    split: Split
    prefix: Prefix | None = None
    pause_ms: int | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ClipDataError(f"clip {self.name!r}: {problem}")

    def _problem(self) -> str | None:
        if self.kind not in KINDS:
            return f"kind {self.kind!r} is not one of {', '.join(KINDS)}"
        if not self.voice:
            return "no voice"
        if self.split not in SPLITS:
            return f"split {self.split!r} is not one of {', '.join(SPLITS)}"
        expected = 2 if self.kind == "paused" else 1
        if len(self.segments) != expected:
            return f"a {self.kind} clip has {expected} segment(s), not {len(self.segments)}"
        previous_end = 0
        for s in self.segments:
            if not (previous_end <= s.start < s.end):
                return f"segment {s.text!r} spans samples {s.start}-{s.end}, out of order"
            previous_end = s.end
        if self.kind != "paused":
            if self.prefix is not None or self.pause_ms is not None:
                return "only a paused clip has a prefix and a pause"
            return None
        if self.prefix not in PREFIXES:
            return f"prefix {self.prefix!r} is not one of {', '.join(PREFIXES)}"
        if not isinstance(self.pause_ms, int) or isinstance(self.pause_ms, bool):
            return "a paused clip needs pause_ms"
        gap_ms = (self.segments[1].start - self.segments[0].end) * 1000 / SAMPLE_RATE
        if abs(gap_ms - self.pause_ms) > 1:
            return f"pause_ms {self.pause_ms} but its segments are {gap_ms:.1f} ms apart"
        return None

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
            "voice": self.voice,
            "split": self.split,
            "prefix": self.prefix,
            "pause_ms": self.pause_ms,
            "segments": [{"text": s.text, "start": s.start, "end": s.end} for s in self.segments],
        }

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> Clip:
        """A clip from its manifest entry; ClipDataError if the entry is malformed."""
        if not isinstance(entry, dict):
            raise ClipDataError(f"manifest entry {entry!r} is not an object")
        name = entry.get("name", "?")
        fields = {"name", "kind", "voice", "split", "prefix", "pause_ms", "segments"}
        missing, extra = fields - entry.keys(), entry.keys() - fields
        if missing or extra:
            raise ClipDataError(
                f"clip {name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        segments = []
        for s in entry["segments"]:
            if not (isinstance(s, dict) and s.keys() == {"text", "start", "end"}):
                raise ClipDataError(f"clip {name!r}: segment {s!r} needs text, start and end")
            if not (isinstance(s["text"], str) and _is_int(s["start"]) and _is_int(s["end"])):
                raise ClipDataError(f"clip {name!r}: segment {s!r} has the wrong types")
            segments.append(Segment(s["text"], s["start"], s["end"]))
        if entry["pause_ms"] is not None and not _is_int(entry["pause_ms"]):
            raise ClipDataError(f"clip {name!r}: pause_ms {entry['pause_ms']!r} is not an integer")
        if not (isinstance(name, str) and isinstance(entry["voice"], str)):
            raise ClipDataError(f"clip {name!r}: name and voice must be strings")
        return cls(
            name,
            entry["kind"],
            tuple(segments),
            voice=entry["voice"],
            split=entry["split"],
            prefix=entry["prefix"],
            pause_ms=entry["pause_ms"],
        )

    def samples(self) -> np.ndarray:
        """The clip's int16 samples at 16 kHz."""
        return _load_samples(self.name)


@dataclass(frozen=True)
class Recording:
    """A real person's speech with no labels: for checking the VAD and turn gate on real voices."""

    name: str
    samples: np.ndarray
    source: str
    # (start, end) seconds where anyone speaks, when the source labels it; None otherwise
    speech: tuple[tuple[float, float], ...] | None = None

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return len(self.samples) / SAMPLE_RATE


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def noise_floor(n: int, seed: int) -> np.ndarray:
    """`n` int16 samples of pink (1/f) noise, 20 Hz to 8 kHz, at NOISE_FLOOR_DBFS RMS.

    Made by shaping random spectra, so it is periodic in `n`: played in a loop, it has no seam.
    """
    rng = np.random.default_rng(seed)
    bins = n // 2 + 1
    spectrum = rng.standard_normal(bins) + 1j * rng.standard_normal(bins)
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    shape = np.zeros(bins)
    audible = freqs >= 20
    shape[audible] = 1 / np.sqrt(freqs[audible])
    noise = np.fft.irfft(spectrum * shape, n)
    noise *= 32768 * 10 ** (NOISE_FLOOR_DBFS / 20) / np.sqrt(np.mean(noise**2))
    return np.round(noise).astype(np.int16)


def dbfs(samples: np.ndarray) -> float:
    """RMS level of int16 samples in dB below full scale (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
    return 20 * np.log10(rms / 32768) if rms > 0 else float("-inf")


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
    except (OSError, wave.Error, EOFError) as exc:
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClipDataError(
            f"{path}: unreadable manifest ({exc}); run `python -m benchmarks.make_clips`"
        ) from None


@cache
def load_clips() -> tuple[Clip, ...]:
    """Every clip in the manifest, in order; ClipDataError if the manifest is malformed."""
    manifest = _read_json(MANIFEST)
    try:
        if not isinstance(manifest, dict) or not isinstance(manifest.get("clips"), list):
            raise ClipDataError("expected an object with a list of clips")
        if manifest.get("sample_rate") != SAMPLE_RATE:
            raise ClipDataError(f"sample_rate {manifest.get('sample_rate')!r}, not {SAMPLE_RATE}")
        if manifest.get("noise_floor_dbfs") != NOISE_FLOOR_DBFS:
            raise ClipDataError(
                f"noise_floor_dbfs {manifest.get('noise_floor_dbfs')!r}, not {NOISE_FLOOR_DBFS}"
            )
        clips = tuple(Clip.from_json(e) for e in manifest["clips"])
        names = [c.name for c in clips]
        if len(set(names)) != len(names):
            raise ClipDataError("clip names repeat")
    except ClipDataError as exc:
        raise ClipDataError(
            f"{MANIFEST}: {exc}; run `python -m benchmarks.make_clips` to regenerate"
        ) from None
    return clips


def clips_of(
    kind: ClipKind, *, split: Split | None = None, prefix: Prefix | None = None
) -> tuple[Clip, ...]:
    """The clips of one kind, optionally only one split's and (paused clips) one prefix's."""
    if kind not in KINDS or split not in (None, *SPLITS) or prefix not in (None, *PREFIXES):
        raise ValueError(f"no clips of kind {kind!r}, split {split!r}, prefix {prefix!r}")
    return tuple(
        c
        for c in load_clips()
        if c.kind == kind
        and (split is None or c.split == split)
        and (prefix is None or c.prefix == prefix)
    )


@cache
def real_recordings() -> tuple[Recording, ...]:
    """The real recordings in benchmarks/data/real, in manifest order."""
    entries = _read_json(REAL_MANIFEST)
    out = []
    try:
        for e in entries:
            source = f"{e['package']} {e['version']}: {e['path']} ({e['licence']})"
            speech = None
            if e["speech"] is not None:
                speech = tuple((float(start), float(end)) for start, end in e["speech"])
            out.append(Recording(e["name"], read_wav(REAL_DIR / e["file"]), source, speech))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ClipDataError):
            raise
        raise ClipDataError(f"{REAL_MANIFEST}: malformed entry ({exc!r})") from None
    return tuple(out)
