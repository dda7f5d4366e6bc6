"""Pipecat's Smart Turn v3.2: an audio end-of-turn model, one anchor of the turn-taking benchmark.

The model (smart-turn-v3.2-cpu.onnx, BSD-2-Clause) ships inside the `pipecat-ai` wheel, which
the `bench` dependency group installs (`make bench` syncs it; `make test` does not). Inference
follows `LocalSmartTurnAnalyzerV3._predict_endpoint` in
pipecat/audio/turn/smart_turn/local_smart_turn_v3.py: the same ONNX session options, the last
8 s of audio (zero-padded at the front when shorter), Pipecat's own Whisper log-mel features,
and the model's sigmoid output as the probability that the turn is complete.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
# the model sees the last WINDOW_S seconds of the turn
WINDOW_S = 8
MODEL_PACKAGE = "pipecat.audio.turn.smart_turn.data"
MODEL_NAME = "smart-turn-v3.2-cpu.onnx"


@dataclass(frozen=True)
class _Runtime:
    ort: Any
    features: Any  # compute_whisper_log_mel_features(audio, *, do_normalize) -> (80, 800)
    model_path: str


@cache
def _runtime() -> _Runtime:
    """Import onnxruntime and Pipecat's feature code; ImportError when the bench group is absent."""
    import onnxruntime as ort
    from loguru import logger

    # importing pipecat logs a version banner at INFO; the benchmark wants none of its logs
    logger.disable("pipecat")
    # ...and on Python < 3.12 it swaps asyncio.wait_for for wait_for2's; keep the stdlib one so
    # loading the model does not change how the rest of the benchmark's asyncio code behaves
    wait_for = asyncio.wait_for
    try:
        from pipecat.audio.turn.smart_turn._whisper_features import (
            compute_whisper_log_mel_features,
        )
    finally:
        asyncio.wait_for = wait_for

    model = resources.files(MODEL_PACKAGE).joinpath(MODEL_NAME)
    if not model.is_file():
        raise ImportError(f"pipecat-ai is installed but has no {MODEL_PACKAGE}/{MODEL_NAME}")
    return _Runtime(ort, compute_whisper_log_mel_features, str(model))


def available() -> bool:
    """Whether pipecat-ai (with its bundled model) and onnxruntime are installed."""
    try:
        _runtime()
    except ImportError:
        return False
    return True


class SmartTurn:
    """Smart Turn v3.2 on the CPU, one inference thread, as Pipecat runs it by default."""

    def __init__(self) -> None:
        rt = _runtime()
        so = rt.ort.SessionOptions()
        so.execution_mode = rt.ort.ExecutionMode.ORT_SEQUENTIAL
        so.inter_op_num_threads = 1
        so.intra_op_num_threads = 1
        so.graph_optimization_level = rt.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = rt.ort.InferenceSession(rt.model_path, sess_options=so)
        self._features = rt.features

    def probability(self, samples: np.ndarray) -> float:
        """End-of-turn probability for int16 16 kHz mono audio of the turn so far.

        Pass the caller's speech up to and including the pause being judged; only the last
        8 s count.
        """
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise ValueError(f"need 1-D int16 samples, got {samples.dtype} {samples.shape}")
        audio = samples.astype(np.float32) / 32768.0  # as BaseSmartTurn converts its buffer
        window = WINDOW_S * SAMPLE_RATE
        if len(audio) > window:
            audio = audio[-window:]
        elif len(audio) < window:
            audio = np.pad(audio, (window - len(audio), 0))
        log_mel = self._features(audio, do_normalize=True)
        outputs = self._session.run(None, {"input_features": np.expand_dims(log_mel, axis=0)})
        return float(np.asarray(outputs[0])[0].item())


@cache
def load() -> SmartTurn:
    """The one shared model (loading it takes a few hundred milliseconds)."""
    return SmartTurn()
