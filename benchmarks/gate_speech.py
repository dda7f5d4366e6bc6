"""The spoken generalisation corpus (benchmarks/data/gate_corpus), and the VAD's lag on it.

Only the last KEPT_SECONDS of each utterance's speech is stored, as 8-bit mu-law (G.711, what a
phone line carries): the VAD's lag at a pause depends on how the speech ends, and the whole
corpus at 16-bit would be 29 MB. Each batch of families is spoken into its own pair of files
(speech.json with speech.npz, speech-1.json with speech-1.npz, ...), so speaking a new batch
leaves the earlier speech as it was. `heard_at_pause` lays the speech over the noise floor with a
silence after it, as a caller who stops there, and `vad_lag` is how far the agent's VAD's
estimate of the end of speech trails the true end: the turn gate's wait starts there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from livekit.agents import vad as lk_vad

from benchmarks.clips import DATA_DIR, SAMPLE_RATE, ClipDataError, noise_floor
from benchmarks.gate_corpus import Utterance, utterances
from benchmarks.vad_feed import vad_events

CORPUS_DIR = DATA_DIR / "gate_corpus"
# lead-in before the speech and silence after it: enough for the VAD to settle and to end
_LEAD_IN, _TAIL = SAMPLE_RATE // 2, int(1.5 * SAMPLE_RATE)
KEPT_SECONDS = 0.8
_MU = 255


def mu_law_encode(samples: np.ndarray) -> np.ndarray:
    """int16 samples as 8-bit mu-law codes."""
    y = samples.astype(np.float64) / 32768
    companded = np.sign(y) * np.log1p(_MU * np.abs(y)) / np.log1p(_MU)
    return np.round((companded + 1) / 2 * 255).astype(np.uint8)


def mu_law_decode(codes: np.ndarray) -> np.ndarray:
    """8-bit mu-law codes back to int16 samples."""
    companded = codes.astype(np.float64) / 255 * 2 - 1
    y = np.sign(companded) * np.expm1(np.abs(companded) * np.log1p(_MU)) / _MU
    return np.clip(np.round(y * 32768), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class Spoken:
    """One utterance as spoken: the engine, the voice and the last of its speech before the
    pause."""

    utterance: Utterance
    engine: str
    voice: str
    samples: np.ndarray


def speech_files() -> list[Path]:
    """The manifests of the spoken batches, oldest first (speech.json, speech-1.json, ...)."""
    return sorted(CORPUS_DIR.glob("speech*.json"), key=lambda p: (len(p.stem), p.stem))


def spoken_entries() -> dict[str, tuple[Path, dict[str, str]]]:
    """Each spoken utterance's manifest entry by name, with its manifest's path."""
    hint = "run `python -m benchmarks.speak_gate_corpus` to regenerate"
    out: dict[str, tuple[Path, dict[str, str]]] = {}
    for path in speech_files():
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ClipDataError(f"{path}: unreadable ({exc}); {hint}") from None
        out.update({e["name"]: (path, e) for e in manifest["utterances"]})
    return out


@cache
def spoken() -> tuple[Spoken, ...]:
    """Every utterance of the corpus with its speech; ClipDataError when the audio is stale."""
    hint = "run `python -m benchmarks.speak_gate_corpus` to speak what is missing"
    entries = spoken_entries()
    audio: dict[Path, Any] = {}
    out = []
    for u in utterances():
        found = entries.get(u.name)
        if found is None:
            raise ClipDataError(f"{CORPUS_DIR}: no speech for {u.name!r}; {hint}")
        path, entry = found
        try:
            if path not in audio:
                audio[path] = np.load(path.with_suffix(".npz"))
            codes = audio[path][entry["key"]]
        except (OSError, ValueError, KeyError) as exc:
            raise ClipDataError(f"{path.with_suffix('.npz')}: unreadable ({exc}); {hint}") from None
        out.append(Spoken(u, entry["engine"], entry["voice"], mu_law_decode(codes)))
    return tuple(out)


def heard_at_pause(samples: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """The speech over the noise floor, with a lead-in and a silence after; and the sample
    where the speech ends."""
    clean = np.concatenate(
        [np.zeros(_LEAD_IN, np.int16), samples.astype(np.int16), np.zeros(_TAIL, np.int16)]
    )
    noise = noise_floor(len(clean), seed=seed).astype(np.int32)
    mixed = np.clip(clean.astype(np.int32) + noise, -32768, 32767).astype(np.int16)
    return mixed, _LEAD_IN + len(samples)


async def vad_lag(samples: np.ndarray, speech_end: int) -> float | None:
    """Seconds by which the agent's VAD's own estimate of the end of speech trails the true end
    (None if it never reports one): the framework's endpointing wait starts there."""
    ends = [
        e.timestamp - e.silence_duration
        for e in await vad_events(samples)
        if e.type == lk_vad.VADEventType.END_OF_SPEECH
    ]
    return ends[-1] - speech_end / SAMPLE_RATE if ends else None


async def _lags(items: Sequence[Spoken]) -> list[float | None]:
    out = []
    for i, s in enumerate(items):
        samples, end = heard_at_pause(s.samples, seed=i)
        out.append(await vad_lag(samples, end))
    return out


def vad_lags(items: Sequence[Spoken]) -> list[float | None]:
    """The VAD's lag at the end of each spoken utterance."""
    return asyncio.run(_lags(items))
