"""Regenerate benchmarks/data: spoken questions made with flite (developer tool, not CI).

`python -m benchmarks.make_clips` needs flite and sox (apt-get install flite sox). The WAVs and
clips.json it writes are committed, so `make bench` needs neither. It writes:

- 56 complete questions, spoken in one breath (six of them are agent/faq.yaml questions, so
  the FAQ benchmarks have cache hits; eight are wh-questions that end on a preposition, "What
  is this charge for?", which a grammar rule for statements would wrongly call unfinished);
- 48 paused questions, 24 of each `prefix`: "unfinished" (the words before the pause cannot end
  a sentence: "My order number is" / "four five seven two.") and "sentence" (they are a finished
  sentence, and the caller goes on: "I bought a laptop" / "and the screen keeps flickering.").
  An unfinished question is synthesised whole with a comma at the pause, so its first part has
  a continuing intonation; a sentence question's first part is synthesised as a sentence of its
  own (falling, finished intonation) and its second part separately. The pause is then set to
  a grid of twelve lengths from 300 to 1,200 ms, each used twice per prefix (once per split),
  shuffled over the texts with a fixed seed, plus a seeded jitter of up to +-20 ms;
- 4 backchannels ("mm-hm", "uh-huh", "yeah", "okay"), for checking that barge-in ignores them.

Four flite voices take turns: slt (US female), rms (US male), awb (Scottish male), all
clustergen, and kal16 (US male, diphone); each clip's speaking rate is stretched by a seeded
0.92-1.08. A noise floor of pink noise at -60 dBFS RMS (`clips.noise_floor`, seeded per clip)
lies over every clip, pause included, so no clip holds digital silence. Where speech starts and
ends is located on the clean synthesis before the noise is added: a speech sample is one at
least 100 (int16, about -50 dBFS) in magnitude. Each kind (and prefix) is split half "fit" and
half "report", balanced over voices and, for paused clips, over pause lengths.

Why flite and not espeak-ng: the local end-of-turn model judges prosody, and on espeak-ng's
monotone it could not tell a finished question from half of one (finished questions scored
0.11-0.50 against its 0.36 threshold, mostly below; flite's clustergen voices score 0.39-0.69).

`python -m benchmarks.make_clips --real PYANNOTE_WHEEL CODEC2_DEB` instead (re)writes
benchmarks/data/real from pyannote.audio's wheel (`pip download pyannote.audio --no-deps`) and
Debian's codec2-examples package (`apt-get download codec2-examples`): real voices, converted
to 16 kHz mono with sox, with their sources and licences in SOURCES.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.clips import (
    DATA_DIR,
    MANIFEST,
    NOISE_FLOOR_DBFS,
    REAL_DIR,
    REAL_MANIFEST,
    SAMPLE_RATE,
    Clip,
    Segment,
    noise_floor,
    read_wav,
    write_wav,
)

SEED = 1729
VOICES = ("slt", "rms", "awb", "kal16")
# 0.92-1.08: flite's duration_stretch, per clip
RATE_JITTER = 0.08
PAUSE_GRID_MS = tuple(round(300 + i * 900 / 11) for i in range(12))
PAUSE_JITTER_MS = 20

# Questions spoken in one breath; the ones marked FAQ are agent/faq.yaml questions.
COMPLETE: tuple[str, ...] = (
    "Can you check the status of my last order?",
    "How much does the premium plan cost per month?",
    "Do you ship to Canada?",
    "I need to change the delivery address for my order.",
    "Is there a discount for students?",
    "What is the warranty on the wireless headphones?",
    "Can I return a jacket I bought online in a store?",
    "How long does a refund usually take?",
    "Why was my card declined yesterday?",
    "Could you send me a copy of my invoice?",
    "Do you have the blue sneakers in size ten?",
    "How do I cancel my subscription?",
    "What are your opening hours?",  # FAQ
    "How do I reset my password?",  # FAQ
    "Can I speak to a person?",  # FAQ
    "Where is my data stored?",  # FAQ
    "When will my package arrive?",
    "Can I pay with PayPal?",
    "Do you offer free shipping on orders over fifty dollars?",
    "How do I update the credit card on my account?",
    "Why is my bill so much higher this month?",
    "Can I switch to a cheaper plan?",
    "Is the store on Main Street open on public holidays?",
    "How do I track my parcel?",
    "Can I add a second user to my account?",
    "What happens if I miss a payment?",
    "Do you match the prices of other shops?",
    "I would like to cancel my order.",
    "Can I still get express delivery on this order?",
    "Where can I download my receipts?",
    "Could you tell me my current balance?",
    "Why hasn't my refund arrived yet?",
    "Do you sell gift cards?",
    "How can I reach the returns department?",
    "Is it safe to save my card details on your website?",
    "What is your returns policy for sale items?",
    "My package arrived damaged, what should I do?",
    "Can I collect my order from the warehouse?",
    "Are there any fees for paying in instalments?",
    "How do I change the email address on my account?",
    "When does my contract end?",
    "Can you resend the confirmation email?",
    "Do you deliver on weekends?",
    "I'd like to upgrade my internet speed.",
    "Which payment methods do you accept?",
    "When are you open?",  # FAQ
    "Am I talking to a robot?",  # FAQ
    "Why does the app keep logging me out?",
    # wh-questions that end on a preposition: finished, though a statement ending so is not
    "What is this charge for?",
    "Who am I speaking with?",
    "Which plan am I on?",
    "Where did my parcel ship from?",
    "What is the extra fee for?",
    "Who should I send the receipt to?",
    "Which department do I talk to?",
    "What country is it coming from?",
)

# (before the pause, after it): the first part cannot end a sentence. Three open like a
# wh-question and stop on a preposition, where a wh-question may end ("Who should I talk to?").
UNFINISHED: tuple[tuple[str, str], ...] = (
    ("My order number is", "four five seven two."),
    ("I'm calling about", "the package that never arrived."),
    ("The reason I'm calling is", "my internet keeps dropping out."),
    ("I was charged twice for", "the same pair of boots."),
    ("Can you send the invoice to", "my work email instead?"),
    ("I'd like to return the", "jacket I ordered last week."),
    ("My account number is", "three one eight nine."),
    ("I need help with", "setting up my new router."),
    ("Could you tell me if", "the store has any in stock?"),
    ("I wanted to ask whether", "you deliver to Ireland."),
    ("Which of these works best with", "an older phone?"),
    ("The delivery was supposed to come on", "Tuesday but nothing showed up."),
    ("I'd like to speak to someone in", "the billing department."),
    ("I can't seem to", "log in to the app."),
    ("We ordered three pairs of", "curtains and only got two."),
    ("I'm trying to find out how", "to change my delivery slot."),
    ("Is there any way that", "I can get my money back?"),
    ("What's the best way to", "get a refund for a gift?"),
    ("I think I was overcharged because", "the discount wasn't applied."),
    ("Could you please check when", "my next payment is due?"),
    ("How do I get to", "the returns page in the app?"),
    ("The app keeps crashing whenever", "I open the settings page."),
    ("I ordered the shoes in size nine but", "you sent me size eleven."),
    ("Do you have any of these in", "a larger size?"),
)

# (before the pause, after it): the first part is a finished sentence, spoken as one (with the
# punctuation shown, which the manifest's transcript leaves off), and the caller goes on.
SENTENCE: tuple[tuple[str, str], ...] = (
    ("I bought a laptop.", "and the screen keeps flickering."),
    ("Do you know?", "when the new model comes out?"),
    ("Is it possible?", "to pay in three instalments?"),
    ("Can you tell me?", "how much the delivery costs?"),
    ("I have a question.", "about my last bill."),
    ("I moved last month.", "so I need to update my address."),
    ("My parcel came today.", "but the box was empty."),
    ("I ordered a sofa.", "and it still hasn't been delivered."),
    ("I got an email from you.", "saying my payment failed."),
    ("I need some help.", "with a problem on my account."),
    ("I was on the phone earlier.", "and the call got cut off."),
    ("I'd like a refund.", "for the shoes I sent back."),
    ("My card expired.", "so I need to add a new one."),
    ("I'm a new customer.", "and I can't find my welcome code."),
    ("Could you check something?", "for me on my order?"),
    ("I renewed my subscription.", "but it still says expired."),
    ("The headphones stopped working.", "after only two weeks."),
    ("I want to cancel.", "unless you can offer me a better price."),
    ("Do you have it in stock?", "at the store near the station?"),
    ("I was charged a late fee.", "even though I paid on time."),
    ("Can I change it?", "to a different colour?"),
    ("I tried to log in.", "and it says my account is locked."),
    ("My husband placed an order.", "using my email address."),
    ("Is it too late?", "to change my delivery date?"),
)

# (transcript, what flite is given): flite spells "mm-hm" out letter by letter.
BACKCHANNELS: tuple[tuple[str, str], ...] = (
    ("mm-hm", "um hum."),
    ("uh-huh", "uh-huh."),
    ("yeah", "yeah."),
    ("okay", "okay."),
)

# 10 ms frames quieter than this RMS (int16 scale) count as silence when locating the pause.
_SILENCE_RMS = 60.0
_FRAME = SAMPLE_RATE // 100
# A sample this loud (about -50 dBFS) is speech; the true end of speech is the last one.
_SPEECH_AMPLITUDE = 100
# At most this much of the sub-speech decay (or onset) beside a pause is kept, faded.
_EDGE = SAMPLE_RATE * 30 // 1000


@dataclass(frozen=True)
class Plan:
    """One clip to synthesise: who says what, at which rate, with which pause."""

    name: str
    kind: str
    voice: str
    split: str
    parts: tuple[str, ...]  # what flite says (a paused clip: before and after the pause)
    stretch: float
    prefix: str | None = None
    pause_ms: int | None = None

    @property
    def transcript(self) -> tuple[str, ...]:
        """What a perfect transcriber writes for each segment."""
        if self.kind == "backchannel":
            return (dict((said, text) for text, said in BACKCHANNELS)[self.parts[0]],)
        if self.prefix == "sentence":
            return (self.parts[0].rstrip(".?!"), self.parts[1])
        return self.parts


def _alternate(items: list[Plan], key: object) -> dict[str, str]:
    """fit, report, fit, ... over the items sorted by `key`."""
    ordered = sorted(items, key=key)  # type: ignore[arg-type]
    return {p.name: ("fit", "report")[i % 2] for i, p in enumerate(ordered)}


def plan() -> list[Plan]:
    """Every clip's plan, deterministic (seeded), in manifest order."""
    rng = random.Random(SEED)

    def stretch() -> float:
        return round(rng.uniform(1 - RATE_JITTER, 1 + RATE_JITTER), 3)

    # complete: voices in turn; per voice, half fit and half report, alternating by length
    complete = [
        Plan(f"complete_{i:02d}", "complete", VOICES[i % len(VOICES)], "", (t,), stretch())
        for i, t in enumerate(COMPLETE)
    ]
    splits: dict[str, str] = {}
    by_voice: dict[str, list[Plan]] = defaultdict(list)
    for p in complete:
        by_voice[p.voice].append(p)
    for group in by_voice.values():
        splits |= _alternate(group, lambda p: (len(p.parts[0]), p.name))
    complete = [replace(p, split=splits[p.name]) for p in complete]

    # paused: slot k (0-23) of a prefix has pause grid[k // 2] and split fit/report by k's
    # parity, so each split gets the whole grid once; voices rotate so that each voice has
    # three clips per split, short, middling and long pauses
    paused: dict[str, list[Plan]] = {}
    for prefix, texts in (("unfinished", UNFINISHED), ("sentence", SENTENCE)):
        slots = list(range(len(texts)))
        rng.shuffle(slots)
        group = []
        for text, k in zip(texts, slots, strict=True):
            rank, parity = divmod(k, 2)
            group.append(
                Plan(
                    "",
                    "paused",
                    VOICES[(rank + 2 * parity) % len(VOICES)],
                    ("fit", "report")[parity],
                    text,
                    stretch(),
                    prefix,
                    PAUSE_GRID_MS[rank] + rng.randint(-PAUSE_JITTER_MS, PAUSE_JITTER_MS),
                )
            )
        paused[prefix] = group
    # the two prefixes alternate in the manifest, so any first few paused clips hold both
    interleaved = [
        p for pair in zip(paused["unfinished"], paused["sentence"], strict=True) for p in pair
    ]
    paused_plans = [replace(p, name=f"paused_{i:02d}") for i, p in enumerate(interleaved)]

    backchannel = [
        Plan(
            f"backchannel_{i:02d}",
            "backchannel",
            VOICES[i],
            ("fit", "report")[i % 2],
            (said,),
            stretch(),
        )
        for i, (_, said) in enumerate(BACKCHANNELS)
    ]
    return complete + paused_plans + backchannel


def _speak(voice: str, text: str, stretch: float, tmp: Path) -> np.ndarray:
    raw, out = tmp / "raw.wav", tmp / "out.wav"
    subprocess.run(
        [
            "flite",
            "-voice",
            voice,
            "--setf",
            f"duration_stretch={stretch}",
            "-t",
            text,
            "-o",
            str(raw),
        ],
        check=True,
    )
    # 16 kHz mono, leading and trailing silence removed: the feeder adds its own lead-in
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


def _loud(samples: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(samples.astype(np.int32)) >= _SPEECH_AMPLITUDE)


def _speech_end(samples: np.ndarray, upto: int) -> int:
    """One past the last sample before `upto` loud enough to be speech rather than dither."""
    loud = _loud(samples[:upto])
    return int(loud[-1]) + 1 if len(loud) else upto


def _speech_start(samples: np.ndarray, after: int = 0) -> int:
    """The first sample from `after` on loud enough to be speech."""
    loud = _loud(samples[after:])
    if not len(loud):
        raise ValueError("no speech")
    return after + int(loud[0])


def _join(a: np.ndarray, b: np.ndarray, pause: int) -> tuple[np.ndarray, int, int]:
    """`a`'s speech, exactly `pause` samples, then `b`'s speech; and where the pause lies.

    The quiet decay after `a`'s last speech sample and the onset before `b`'s first (up to
    30 ms each, faded) are kept inside the pause; the rest of it is zeros.
    """
    a_end, b_start = _speech_end(a, len(a)), _speech_start(b)
    tail = a[a_end:][:_EDGE].astype(np.float64) * np.linspace(1, 0, min(len(a) - a_end, _EDGE))
    lead = b[:b_start][-_EDGE:].astype(np.float64) * np.linspace(0, 1, min(b_start, _EDGE))
    gap = np.zeros(pause)
    gap[: len(tail)] += tail
    gap[pause - len(lead) :] += lead
    joined = np.concatenate([a[:a_end], np.round(gap).astype(np.int16), b[b_start:]])
    return joined, a_end, a_end + pause


def _synthesise(p: Plan, tmp: Path) -> tuple[np.ndarray, tuple[Segment, ...]]:
    """The clean (noise-free) samples of a planned clip and its segments."""
    if p.kind != "paused":
        clean = _speak(p.voice, p.parts[0], p.stretch, tmp)
        segment = Segment(p.transcript[0], _speech_start(clean), _speech_end(clean, len(clean)))
        return clean, (segment,)
    assert p.pause_ms is not None
    pause = round(p.pause_ms * SAMPLE_RATE / 1000)
    first, second = p.parts
    if p.prefix == "sentence":
        a = _speak(p.voice, first, p.stretch, tmp)
        b = _speak(p.voice, second, p.stretch, tmp)
    else:
        # the comma gives the first part a continuing intonation and a short pause, which is
        # then set to the planned length, keeping both sides' prosody
        whole = _speak(p.voice, f"{first}, {second}", p.stretch, tmp)
        gap_start, gap_end = _longest_gap(whole)
        alone = len(_speak(p.voice, first, p.stretch, tmp))
        if not 0.8 * alone <= gap_start <= 1.25 * alone:
            raise RuntimeError(
                f"{p.name}: the longest silence in {first!r}, {second!r} is at "
                f"{gap_start / SAMPLE_RATE:.2f} s, but {first!r} alone lasts "
                f"{alone / SAMPLE_RATE:.2f} s: not the comma's pause"
            )
        a, b = whole[:gap_start], whole[gap_end:]
    clean, first_end, second_start = _join(a, b, pause)
    assert _speech_end(clean, second_start) == first_end
    assert _speech_start(clean, first_end) == second_start
    segments = (
        Segment(p.transcript[0], _speech_start(clean), first_end),
        Segment(p.transcript[1], second_start, _speech_end(clean, len(clean))),
    )
    return clean, segments


def make_clips() -> list[Clip]:
    """Synthesise every planned clip, write it with its noise floor, and return the clips."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    clips: list[Clip] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, p in enumerate(plan()):
            clean, segments = _synthesise(p, Path(tmp))
            noise = noise_floor(len(clean), seed=SEED * 1000 + i).astype(np.int32)
            mixed = np.clip(clean.astype(np.int32) + noise, -32768, 32767).astype(np.int16)
            write_wav(DATA_DIR / f"{p.name}.wav", mixed)
            pause_ms = None
            if p.kind == "paused":
                pause_ms = round((segments[1].start - segments[0].end) * 1000 / SAMPLE_RATE)
            clip = Clip(
                p.name,
                p.kind,  # type: ignore[arg-type]
                segments,
                voice=p.voice,
                split=p.split,  # type: ignore[arg-type]
                prefix=p.prefix,  # type: ignore[arg-type]
                pause_ms=pause_ms,
            )
            clips.append(clip)
            print(f"{p.name} {p.voice:5} {p.split:6} {pause_ms or '':>5} {clip.text}")
    manifest = {
        "sample_rate": SAMPLE_RATE,
        "noise_floor_dbfs": NOISE_FLOOR_DBFS,
        "clips": [c.to_json() for c in clips],
    }
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")
    names = {f"{c.name}.wav" for c in clips}
    for stale in DATA_DIR.glob("*.wav"):
        if stale.name not in names:
            stale.unlink()
    return clips


# (name, path inside codec2-examples, what it is): short real recordings, 8 kHz raw int16 but
# one; "low" and "higher" voice by their median pitch (about 85-115 Hz and 170-185 Hz)
_CODEC2 = (
    ("codec2_hts1a", "usr/share/codec2/raw/hts1a.raw", "one talker, low voice, 3 s"),
    ("codec2_hts2a", "usr/share/codec2/raw/hts2a.raw", "one talker, higher voice, 3 s"),
    ("codec2_mmt1", "usr/share/codec2/raw/mmt1.raw", "one talker, low voice, 4 s"),
    ("codec2_big_dog", "usr/share/codec2/raw/big_dog.raw", "one talker, low voice, 2.5 s"),
    ("codec2_kristoff", "usr/share/codec2/raw/kristoff.raw", "one talker, low voice, 5 s"),
    ("codec2_morig", "usr/share/codec2/raw/morig.raw", "one talker, low voice, 2 s"),
    ("codec2_forig", "usr/share/codec2/raw/forig.raw", "one talker, higher voice, 1.6 s"),
)
_CODEC2_16K = (
    "codec2_speech_orig_16k",
    "usr/share/codec2/raw/speech_orig_16k.wav",
    "several sentences, 10.8 s, already 16 kHz; pitch 130-230 Hz",
)
_PYANNOTE_SAMPLE = "pyannote/audio/sample/sample.wav"
_PYANNOTE_RTTM = "pyannote/audio/sample/sample.rttm"


def _to_16k(source: Path, out: Path, *, raw8k: bool) -> None:
    kind = ["-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1"] if raw8k else []
    subprocess.run(
        ["sox", *kind, str(source), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(out)],
        check=True,
    )


def _merged_speech(rttm: str) -> list[list[float]]:
    """Where anyone speaks (seconds), from an RTTM file's speaker turns, overlaps merged."""
    turns = sorted(
        (float(f[3]), float(f[3]) + float(f[4]))
        for f in (line.split() for line in rttm.splitlines())
        if f and f[0] == "SPEAKER"
    )
    merged: list[list[float]] = []
    for start, end in turns:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [[round(s, 3), round(e, 3)] for s, e in merged]


def make_real(wheel: Path, deb: Path) -> None:
    """Write benchmarks/data/real from pyannote.audio's wheel and codec2-examples' .deb."""
    REAL_DIR.mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # pyannote.audio's sample: a two-speaker telephone conversation, 30 s at 16 kHz
        with zipfile.ZipFile(wheel) as whl:
            whl.extract(_PYANNOTE_SAMPLE, tmp)
            rttm = whl.read(_PYANNOTE_RTTM).decode()
            metadata = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
            version = next(
                line.split(": ", 1)[1]
                for line in whl.read(metadata).decode().splitlines()
                if line.startswith("Version: ")
            )
        _to_16k(tmp / _PYANNOTE_SAMPLE, REAL_DIR / "pyannote_sample.wav", raw8k=False)
        entries.append(
            {
                "name": "pyannote_sample",
                "file": "pyannote_sample.wav",
                "package": "pyannote.audio (PyPI wheel)",
                "version": version,
                "path": _PYANNOTE_SAMPLE,
                "licence": "MIT (the package's licence; the wheel states no other terms for it)",
                "description": "two talkers on a telephone line (sample.stm names them), "
                "overlapping at times, 30 s",
                "speech": _merged_speech(rttm),
            }
        )
        subprocess.run(["dpkg", "-x", str(deb), str(tmp / "deb")], check=True)
        deb_version = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        for name, path, description in (*_CODEC2, _CODEC2_16K):
            _to_16k(tmp / "deb" / path, REAL_DIR / f"{name}.wav", raw8k=path.endswith(".raw"))
            entries.append(
                {
                    "name": name,
                    "file": f"{name}.wav",
                    "package": "codec2-examples (Debian)",
                    "version": deb_version,
                    "path": f"/{path}",
                    "licence": "LGPL-2.1, Copyright 2007-2019 David Rowe "
                    "(usr/share/doc/codec2-examples/copyright)",
                    "description": description,
                    "speech": None,
                }
            )
    REAL_MANIFEST.write_text(json.dumps(entries, indent=1) + "\n")
    lines = [
        "# Real recordings",
        "",
        "Real voices for checking that the VAD and the turn gate behave on human speech; they",
        "have no labelled mid-question pauses. Regenerate with",
        "`python -m benchmarks.make_clips --real PYANNOTE_WHEEL CODEC2_DEB`. Every file was",
        "converted to 16 kHz mono 16-bit WAV with sox (8 kHz sources resampled); nothing else",
        "was changed. `recordings.json` lists the same, and for pyannote_sample where anyone",
        "speaks (from the wheel's sample.rttm).",
        "",
        "| file | package | version | path inside the package | licence | what |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        size = (REAL_DIR / e["file"]).stat().st_size
        lines.append(
            f"| {e['file']} ({size // 1024} KiB) | {e['package']} | {e['version']} | "
            f"`{e['path']}` | {e['licence']} | {e['description']} |"
        )
    lines += [
        "",
        "pyannote.audio is MIT licensed (Copyright (c) 2020 CNRS, LICENSE in the wheel's",
        "dist-info); the wheel ships the sample under that licence and says nothing more about",
        "where the recording comes from. It sounds like a telephone-speech corpus call (two",
        "callers introduce themselves), so check its provenance before any use beyond these",
        "benchmarks.",
        "",
        "codec2-examples' debian/copyright lists `raw/*` (the directory these files come from)",
        "as Copyright 2007-2019 David Rowe, LGPL-2.1; the full text is in",
        "/usr/share/common-licenses/LGPL-2.1 on Debian systems.",
        "",
    ]
    (REAL_DIR / "SOURCES.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Write every clip and the manifest, or (--real) the real recordings."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.make_clips", description=__doc__)
    parser.add_argument("--real", nargs=2, type=Path, metavar=("PYANNOTE_WHEEL", "CODEC2_DEB"))
    args = parser.parse_args(argv)
    needed = ("sox", "dpkg", "dpkg-deb") if args.real else ("flite", "sox")
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        print(f"make_clips: needs {', '.join(missing)} (apt-get install flite sox)")
        return 2
    if args.real:
        make_real(*args.real)
        print(f"make_clips: wrote real recordings to {REAL_DIR}")
        return 0
    clips = make_clips()
    print(f"make_clips: wrote {len(clips)} clips to {DATA_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
