"""The agent's local VAD on the real recordings (benchmarks/real_voices.py)."""

from __future__ import annotations

from benchmarks.clips import real_recordings
from benchmarks.real_voices import measure


def test_vad_finds_the_labelled_speech_in_the_pyannote_sample() -> None:
    recordings = [r for r in real_recordings() if r.speech is not None]
    assert recordings, "the pyannote sample (the labelled recording) is missing"

    results = measure(recordings)

    assert [r.name for r in results] == [r.name for r in recordings]
    for result in results:
        assert result.segments, f"{result.name}: no speech found"
        assert result.recall is not None and result.recall >= 0.8, result.name
        assert result.short_segments == 0
