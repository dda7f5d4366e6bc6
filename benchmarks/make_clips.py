"""Regenerate benchmarks/data: spoken questions made with flite (developer tool, not CI).

`python -m benchmarks.make_clips` needs flite and sox (apt-get install flite sox). The WAVs and
clips.json it writes are committed, so `make bench` needs neither.

Why flite and not espeak-ng: the local end-of-turn model judges prosody, and on espeak-ng's
monotone it could not tell a finished question from half of one (finished questions scored
0.11-0.50 against its 0.36 threshold, mostly below; flite's clustergen voices score 0.39-0.69).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.clips import DATA_DIR, MANIFEST, SAMPLE_RATE, Clip, Segment, read_wav, write_wav

# (voice, text) of questions spoken in one breath; the last four match agent/faq.yaml entries.
COMPLETE: tuple[tuple[str, str], ...] = (
    ("slt", "Can you check the status of my last order?"),
    ("rms", "How much does the premium plan cost per month?"),
    ("awb", "Do you ship to Canada?"),
    ("rms", "I need to change the delivery address for my order."),
    ("slt", "Is there a discount for students?"),
    ("rms", "What is the warranty on the wireless headphones?"),
    ("awb", "Can I return a jacket I bought online in a store?"),
    ("rms", "How long does a refund usually take?"),
    ("slt", "Why was my card declined yesterday?"),
    ("rms", "Could you send me a copy of my invoice?"),
    ("awb", "Do you have the blue sneakers in size ten?"),
    ("rms", "How do I cancel my subscription?"),
    ("slt", "What are your opening hours?"),
    ("rms", "How do I reset my password?"),
    ("awb", "Can I speak to a person?"),
    ("rms", "Where is my data stored?"),
)

# (voice, first part, second part, pause in ms): a speaker who stops to think mid-question.
PAUSED: tuple[tuple[str, str, str, int], ...] = (
    ("slt", "I'd like to know", "what time you open on Sunday.", 600),
    ("rms", "Can you tell me", "how much the delivery costs?", 550),
    ("awb", "I was wondering", "if you have this in red.", 650),
    ("rms", "My order number is", "four five seven two.", 700),
    ("slt", "I want to change", "the address on my account.", 500),
    ("rms", "Could you check", "whether my refund went through?", 600),
    ("awb", "I bought a laptop", "and the screen keeps flickering.", 550),
    ("rms", "Is it possible", "to pay in three instalments?", 650),
    ("slt", "What I really need", "is a copy of last month's bill.", 700),
    ("rms", "I'm calling about", "the package that never arrived.", 500),
    ("awb", "Do you know", "when the new model comes out?", 600),
    ("rms", "So the problem is", "my card keeps getting declined.", 650),
)

# 10 ms frames quieter than this RMS (int16 scale) count as silence when locating the pause.
_SILENCE_RMS = 60.0
_FRAME = SAMPLE_RATE // 100
# A sample this loud (about -50 dBFS) is speech; the true end of speech is the last one.
_SPEECH_AMPLITUDE = 100


def _speak(voice: str, text: str, out: Path) -> np.ndarray:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True)
    # 16 kHz mono, leading and trailing silence removed: the feeder adds its own silence
    trim = ["silence", "1", "0.02", "0.3%", "reverse", "silence", "1", "0.02", "0.3%", "reverse"]
    subprocess.run(
        ["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(out), *trim],
        check=True,
    )
    return read_wav(out)


def _longest_gap(samples: np.ndarray) -> tuple[int, int]:
    """Start and end sample of the longest silent stretch (the deliberate pause)."""
    frames = samples[: len(samples) // _FRAME * _FRAME].astype(np.float64).reshape(-1, _FRAME)
    silent = np.sqrt((frames**2).mean(axis=1)) < _SILENCE_RMS
    best, run_start, best_span = 0, None, (0, 0)
    for i, quiet in enumerate([*silent, False]):
        if quiet and run_start is None:
            run_start = i
        elif not quiet and run_start is not None:
            if i - run_start > best:
                best, best_span = i - run_start, (run_start, i)
            run_start = None
    return best_span[0] * _FRAME, best_span[1] * _FRAME


def _speech_end(samples: np.ndarray, upto: int) -> int:
    """One past the last sample before `upto` loud enough to be speech rather than dither."""
    loud = np.flatnonzero(np.abs(samples[:upto].astype(np.int32)) >= _SPEECH_AMPLITUDE)
    return int(loud[-1]) + 1 if len(loud) else upto


def main() -> int:
    """Write every clip and the manifest describing where each spoken segment ends."""
    missing = [tool for tool in ("flite", "sox") if shutil.which(tool) is None]
    if missing:
        print(f"make_clips: needs {', '.join(missing)} (apt-get install flite sox)")
        return 2
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    clips: list[Clip] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, text) in enumerate(COMPLETE):
            samples = _speak(voice, text, Path(tmp) / "c.wav")
            name = f"complete_{i:02d}"
            write_wav(DATA_DIR / f"{name}.wav", samples)
            segment = Segment(text, 0, _speech_end(samples, len(samples)))
            clips.append(Clip(name, "complete", (segment,)))
        for i, (voice, first, second, pause_ms) in enumerate(PAUSED):
            # the comma gives the first part a continuing intonation and a short pause, which
            # is then stretched to the stated length
            samples = _speak(voice, f"{first}, {second}", Path(tmp) / "p.wav")
            gap_start, gap_end = _longest_gap(samples)
            # cut or pad the pause to exactly the stated length, keeping both sides' prosody
            pause = np.zeros(pause_ms * SAMPLE_RATE // 1000, dtype=np.int16)
            samples = np.concatenate([samples[:gap_start], pause, samples[gap_end:]])
            resume = gap_start + len(pause)
            name = f"paused_{i:02d}"
            write_wav(DATA_DIR / f"{name}.wav", samples)
            segments = (
                Segment(first, 0, _speech_end(samples, gap_start)),
                Segment(second, resume, _speech_end(samples, len(samples))),
            )
            clips.append(Clip(name, "paused", segments))
    MANIFEST.write_text(json.dumps([c.to_json() for c in clips], indent=1) + "\n")
    print(f"make_clips: wrote {len(clips)} clips to {DATA_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
