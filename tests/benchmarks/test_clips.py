"""The spoken clip set in benchmarks/data and the real recordings beside it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from benchmarks import clips as clips_module
from benchmarks.clips import (
    NOISE_FLOOR_DBFS,
    SAMPLE_RATE,
    Clip,
    ClipDataError,
    Segment,
    clips_of,
    dbfs,
    load_clips,
    noise_floor,
    real_recordings,
)
from benchmarks.turn_latency import split_faq

JITTER_MS = 20
VOICES = {"slt", "rms", "awb", "kal16"}


def test_the_manifest_holds_56_complete_48_paused_and_4_backchannel_clips() -> None:
    kinds = Counter(c.kind for c in load_clips())
    assert kinds == {"complete": 56, "paused": 48, "backchannel": 4}
    assert Counter(c.prefix for c in clips_of("paused")) == {"unfinished": 24, "sentence": 24}
    assert {c.text for c in clips_of("backchannel")} == {"mm-hm", "uh-huh", "yeah", "okay"}


def test_every_clip_file_matches_its_manifest_entry() -> None:
    for clip in load_clips():
        samples = clip.samples()
        assert all(0 <= s.start < s.end <= len(samples) for s in clip.segments), clip.name
        assert len(clip.segments) == (2 if clip.kind == "paused" else 1)


def test_paused_clips_pause_300_to_1200_ms_give_or_take_the_jitter() -> None:
    for clip in clips_of("paused"):
        first, second = clip.segments
        gap_ms = (second.start - first.end) * 1000 / SAMPLE_RATE
        assert clip.pause_ms is not None
        assert abs(gap_ms - clip.pause_ms) <= 1, clip.name
        assert 300 - JITTER_MS <= clip.pause_ms <= 1200 + JITTER_MS, clip.name


@pytest.mark.parametrize("prefix", ["unfinished", "sentence"])
def test_each_prefix_covers_the_whole_pause_range_in_each_split(prefix: str) -> None:
    for split in ("fit", "report"):
        pauses = sorted(c.pause_ms or 0 for c in clips_of("paused", split=split, prefix=prefix))
        assert len(pauses) == 12
        assert pauses[0] <= 300 + JITTER_MS and pauses[-1] >= 1200 - JITTER_MS
        # no hole wider than two grid steps (about 82 ms each, plus jitter)
        assert max(np.diff(pauses)) < 2 * 82 + 2 * JITTER_MS


def test_only_paused_clips_have_a_prefix_and_a_pause() -> None:
    for clip in load_clips():
        assert (clip.prefix is not None) == (clip.kind == "paused"), clip.name
        assert (clip.pause_ms is not None) == (clip.kind == "paused"), clip.name


def test_at_least_four_voices_speak_every_kind() -> None:
    for kind in ("complete", "paused", "backchannel"):
        assert {c.voice for c in clips_of(kind)} == VOICES, kind


def test_both_splits_hold_half_of_each_group_every_voice_and_both_prefixes() -> None:
    for kind in ("complete", "paused", "backchannel"):
        everything = clips_of(kind)
        for split in ("fit", "report"):
            part = clips_of(kind, split=split)
            assert len(part) * 2 == len(everything), (kind, split)
            if kind != "backchannel":
                assert {c.voice for c in part} == VOICES, (kind, split)
    for split in ("fit", "report"):
        for prefix in ("unfinished", "sentence"):
            part = clips_of("paused", split=split, prefix=prefix)
            assert len(part) == 12
            assert Counter(c.voice for c in part) == dict.fromkeys(VOICES, 3)


def test_clips_of_rejects_an_unknown_selection() -> None:
    with pytest.raises(ValueError):
        clips_of("paused", split="train")  # type: ignore[arg-type]


def test_the_faq_questions_are_still_among_the_complete_clips() -> None:
    hits, others = split_faq(clips_of("complete"))
    assert len(hits) >= 4
    assert len(others) >= 40


def test_the_pause_is_noise_at_the_floor_not_digital_silence() -> None:
    for clip in clips_of("paused"):
        first, second = clip.segments
        pause = clip.samples()[first.end : second.start]
        middle = pause[len(pause) // 4 : -len(pause) // 4]
        assert np.count_nonzero(middle) > 0.9 * len(middle), clip.name
        assert abs(dbfs(middle) - NOISE_FLOOR_DBFS) < 2, clip.name


def test_no_clip_holds_digital_silence() -> None:
    for clip in load_clips():
        samples = clip.samples()
        assert np.max(np.diff(np.flatnonzero(samples))) < 20, clip.name


def test_the_noise_floor_is_pink_at_its_level_and_loops_without_a_seam() -> None:
    noise = noise_floor(SAMPLE_RATE * 2, seed=3)
    assert abs(dbfs(noise) - NOISE_FLOOR_DBFS) < 0.2
    spectrum = np.abs(np.fft.rfft(noise.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(noise), 1 / SAMPLE_RATE)
    low = spectrum[(freqs > 100) & (freqs < 200)].mean()
    high = spectrum[(freqs > 4000) & (freqs < 8000)].mean()
    assert low > 10 * high  # not white
    # the last sample runs into the first as smoothly as any two neighbours do
    steps = np.abs(np.diff(noise.astype(np.int32)))
    assert abs(int(noise[0]) - int(noise[-1])) <= np.percentile(steps, 99.9)
    assert np.array_equal(noise, noise_floor(SAMPLE_RATE * 2, seed=3))


def test_the_real_recordings_load_at_16_khz_with_their_sources() -> None:
    recordings = real_recordings()
    assert len(recordings) >= 3
    assert sum(r.samples.nbytes for r in recordings) < 3_000_000
    for r in recordings:
        assert r.samples.dtype == np.int16 and r.seconds >= 1, r.name
        assert dbfs(r.samples) > -40, r.name
        assert r.source and "(" in r.source, r.name
    labelled = [r for r in recordings if r.speech]
    assert labelled and all(0 <= s < e <= r.seconds for r in labelled for s, e in r.speech)
    sources = (clips_module.REAL_DIR / "SOURCES.md").read_text()
    assert all(f"{r.name}.wav" in sources for r in recordings)


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "paused_x",
        "kind": "paused",
        "voice": "slt",
        "split": "fit",
        "prefix": "unfinished",
        "pause_ms": 500,
        "segments": [
            {"text": "My order number is", "start": 0, "end": 16000},
            {"text": "four five.", "start": 24000, "end": 40000},
        ],
    }
    return {**entry, **changes}


def test_a_manifest_entry_round_trips() -> None:
    clip = Clip.from_json(_entry())
    assert clip == Clip(
        "paused_x",
        "paused",
        (Segment("My order number is", 0, 16000), Segment("four five.", 24000, 40000)),
        voice="slt",
        split="fit",
        prefix="unfinished",
        pause_ms=500,
    )
    assert Clip.from_json(clip.to_json()) == clip


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"kind": "muttered"}, "kind"),
        ({"split": "train"}, "split"),
        ({"prefix": None}, "prefix"),
        ({"pause_ms": 700}, "pause_ms"),
        ({"pause_ms": "500"}, "pause_ms"),
        ({"voice": ""}, "voice"),
        ({"kind": "complete"}, "segment"),
        ({"segments": [{"text": "x", "start": 5, "end": 2}] * 2}, "out of order"),
        ({"extra": 1}, "unexpected"),
    ],
)
def test_a_malformed_manifest_entry_is_a_clip_data_error(changes: dict, problem: str) -> None:
    with pytest.raises(ClipDataError, match=problem):
        Clip.from_json(_entry(**changes))


def test_a_malformed_manifest_names_the_file_and_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "clips.json"
    monkeypatch.setattr(clips_module, "MANIFEST", manifest)
    load = clips_module.load_clips.__wrapped__
    for content in (
        "[]",
        json.dumps({"sample_rate": 16000, "noise_floor_dbfs": -60.0, "clips": [_entry(split="x")]}),
        json.dumps({"sample_rate": 8000, "noise_floor_dbfs": -60.0, "clips": []}),
        json.dumps({"sample_rate": 16000, "noise_floor_dbfs": -50.0, "clips": []}),
        "{",
    ):
        manifest.write_text(content)
        with pytest.raises(ClipDataError, match="make_clips") as raised:
            load()
        assert str(manifest) in str(raised.value)
