"""An agent sent to take over a lost call knows it from its dispatch metadata."""

from __future__ import annotations

import json

import pytest

from agent.server import is_failover
from meridian.contract import FAILOVER_METADATA


def test_a_failover_dispatch_is_recognised() -> None:
    assert is_failover(json.dumps({FAILOVER_METADATA: {"attempt": 1, "failed": ["eu-west"]}}))


@pytest.mark.parametrize("metadata", ["", "not json", "[1]", '{"meridian.smoke_test": true}'])
def test_any_other_job_is_a_new_call(metadata: str) -> None:
    assert not is_failover(metadata)
