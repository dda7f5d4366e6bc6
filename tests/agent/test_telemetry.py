"""Logs are JSON lines, and no credential ever reaches one."""

from __future__ import annotations

import json

import structlog

from agent.telemetry import REDACTED
from tests.agent.support import LIVEKIT_SECRET


def test_log_events_are_single_json_lines(logs) -> None:
    structlog.get_logger("t").info("hello", region="eu-west")
    [line] = logs.getvalue().splitlines()
    event = json.loads(line)
    assert (event["event"], event["region"], event["level"]) == ("hello", "eu-west", "info")


def test_a_secret_is_redacted_wherever_it_appears(logs) -> None:
    log = structlog.get_logger("t")
    log.info("oops", detail=f"token={LIVEKIT_SECRET}", nested={"list": [LIVEKIT_SECRET]})
    text = logs.getvalue()
    assert LIVEKIT_SECRET not in text
    event = json.loads(text)
    assert event["detail"] == f"token={REDACTED}"
    assert event["nested"] == {"list": [REDACTED]}
