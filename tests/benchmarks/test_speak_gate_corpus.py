"""The corpus speaker speaks only the utterances no file holds yet, into a new pair of files, and
its voices keep taking turns within a family across batches (the engines are stood in for)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import gate_speech, speak_gate_corpus
from benchmarks.gate_corpus import Utterance
from benchmarks.speak_gate_corpus import VOICES


def _utterance(family: str, heard: str) -> Utterance:
    return Utterance(family, "time", "finished", heard, heard, "report")


SPOKEN = _utterance("old-family", "Already spoken.")
NEW = [_utterance("old-family", "Said second."), _utterance("new-family", "Said first.")]


@pytest.fixture
def spoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Run the speaker over SPOKEN (already in speech.json) and NEW; the (engine, voice, text)
    of each utterance it spoke."""
    (tmp_path / "speech.json").write_text(
        json.dumps({"utterances": [{"name": SPOKEN.name, "key": "u0000"}]})
    )
    said: list[tuple[str, str, str]] = []

    def speak(engine: str, voice: str, text: str, _tmp: Path) -> np.ndarray:
        said.append((engine, voice, text))
        return np.full(16_000, 1_000, dtype=np.int16)

    monkeypatch.setattr(gate_speech, "CORPUS_DIR", tmp_path)
    monkeypatch.setattr(speak_gate_corpus, "CORPUS_DIR", tmp_path)
    monkeypatch.setattr(speak_gate_corpus, "utterances", lambda: (SPOKEN, *NEW))
    monkeypatch.setattr(speak_gate_corpus, "_speak", speak)
    monkeypatch.setattr(speak_gate_corpus.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    assert speak_gate_corpus.main() == 0
    return said


def test_only_utterances_without_speech_are_spoken(spoke) -> None:
    assert [text for _, _, text in spoke] == ["Said second.", "Said first."]


def test_the_new_speech_goes_to_a_new_pair_of_files(spoke, tmp_path: Path) -> None:
    manifest = json.loads((tmp_path / "speech-1.json").read_text())
    assert [e["name"] for e in manifest["utterances"]] == [u.name for u in NEW]
    audio = np.load(tmp_path / "speech-1.npz")
    assert sorted(audio.files) == [e["key"] for e in manifest["utterances"]]


def test_voices_take_turns_within_a_family_counting_its_earlier_speech(spoke) -> None:
    assert [(engine, voice) for engine, voice, _ in spoke] == [VOICES[1], VOICES[0]]
