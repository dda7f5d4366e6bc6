"""The module the worker's forkserver imports loads the turn gate's model once for every job."""

from __future__ import annotations

import importlib

from agent.completeness import EnglishTrigram, Tagger
from agent.server import PRELOAD_MODULE


def test_the_preload_module_loads_the_turn_gate_model() -> None:
    EnglishTrigram.shipped.cache_clear()
    importlib.reload(importlib.import_module(PRELOAD_MODULE))
    assert EnglishTrigram.shipped.cache_info().currsize == 1


def test_the_preload_module_loads_the_turn_gate_tagger() -> None:
    Tagger.shipped.cache_clear()
    importlib.reload(importlib.import_module(PRELOAD_MODULE))
    assert Tagger.shipped.cache_info().currsize == 1
