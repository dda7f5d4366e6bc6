"""benchmarks.smart_turn: Pipecat's Smart Turn v3.2, present only when the bench group is."""

import numpy as np
import pytest

from benchmarks import smart_turn
from benchmarks.clips import clips_of


def test_available_is_a_bool() -> None:
    assert isinstance(smart_turn.available(), bool)


def test_probability_of_a_complete_clip_is_a_probability() -> None:
    if not smart_turn.available():
        # `make test` does not install the bench group; nothing more to check without it
        return
    p = smart_turn.load().probability(clips_of("complete")[0].samples())
    assert 0.0 <= p <= 1.0


def test_probability_rejects_float_audio() -> None:
    if not smart_turn.available():
        return
    with pytest.raises(ValueError, match="int16"):
        smart_turn.load().probability(np.zeros(16_000, dtype=np.float32))
