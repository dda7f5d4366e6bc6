"""Speak the turn gate's generalisation corpus (developer tool, not CI).

`python -m benchmarks.speak_gate_corpus` needs flite, espeak-ng and sox (apt-get install flite
espeak-ng sox). Each utterance of benchmarks/gate_corpus.py is spoken up to the caller's pause by
one of eight voices of two engines, in turn within each family, so every family is heard in
several voices: flite's slt, rms, awb and kal16, and espeak-ng's en-us, en-gb-x-rp,
en-gb-scotland and en-us+f3. An unfinished prefix is spoken with a comma after it, for a
continuing intonation. The end of the speech, trimmed of silence, goes to
benchmarks/data/gate_corpus (benchmarks/gate_speech.py says how); `make bench` needs neither
engine. Only utterances no file holds yet are spoken, into a new pair of files, so adding a
batch of families leaves the speech of the others as it was.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.clips import SAMPLE_RATE, read_wav
from benchmarks.gate_corpus import Utterance, utterances
from benchmarks.gate_speech import (
    CORPUS_DIR,
    KEPT_SECONDS,
    mu_law_encode,
    speech_files,
    spoken_entries,
)

VOICES: tuple[tuple[str, str], ...] = (
    ("flite", "slt"),
    ("espeak-ng", "en-us"),
    ("flite", "rms"),
    ("espeak-ng", "en-gb-x-rp"),
    ("flite", "awb"),
    ("espeak-ng", "en-gb-scotland"),
    ("flite", "kal16"),
    ("espeak-ng", "en-us+f3"),
)
_TRIM = ["silence", "1", "0.02", "0.3%", "reverse", "silence", "1", "0.02", "0.3%", "reverse"]


def _speak(engine: str, voice: str, text: str, tmp: Path) -> np.ndarray:
    raw, out = tmp / "raw.wav", tmp / "out.wav"
    if engine == "flite":
        command = ["flite", "-voice", voice, "-t", text, "-o", str(raw)]
    else:
        command = ["espeak-ng", "-v", voice, "-w", str(raw), text]
    subprocess.run(command, check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(out), *_TRIM],
        check=True,
        capture_output=True,
    )
    return read_wav(out)


def _spoken_text(u: Utterance) -> str:
    return u.heard if u.label == "finished" else f"{u.heard},"


def main() -> int:
    """Speak every utterance that has no speech yet, into a new manifest and audio file."""
    missing = [t for t in ("flite", "espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        print(
            f"speak_gate_corpus: needs {', '.join(missing)} (apt-get install flite espeak-ng sox)"
        )
        return 2
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    done = spoken_entries()
    turn: dict[str, int] = defaultdict(int)
    arrays: dict[str, np.ndarray] = {}
    entries = []
    seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for u in utterances():
            # voices take turns within a family, counting the family's utterances already spoken
            engine, voice = VOICES[turn[u.family] % len(VOICES)]
            turn[u.family] += 1
            if u.name in done:
                continue
            samples = _speak(engine, voice, _spoken_text(u), Path(tmp))
            key = f"u{len(entries):04d}"
            arrays[key] = mu_law_encode(samples[-round(KEPT_SECONDS * SAMPLE_RATE) :])
            seconds += len(samples) / SAMPLE_RATE
            entries.append({"name": u.name, "key": key, "engine": engine, "voice": voice})
    if not entries:
        print(f"every utterance already has its speech in {CORPUS_DIR}")
        return 0
    manifest = CORPUS_DIR / f"speech-{len(speech_files())}.json"
    np.savez_compressed(manifest.with_suffix(".npz"), **arrays)
    manifest.write_text(
        json.dumps({"sample_rate": SAMPLE_RATE, "utterances": entries}, indent=1) + "\n"
    )
    print(
        f"spoke {len(entries)} new utterances ({seconds:.0f} s of speech); kept the last "
        f"{KEPT_SECONDS:g} s of each in {manifest} and {manifest.with_suffix('.npz').name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
