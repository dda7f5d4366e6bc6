"""Logs are JSON lines, and no credential ever reaches one (meridian.logs, used by both services)."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from meridian.logs import REDACTED, configure_logging

SECRET = "secretForTests-0123456789abcdefghij"


@pytest.fixture
def logs() -> io.StringIO:
    captured = io.StringIO()
    configure_logging([SECRET, "short"], stream=captured)
    return captured


def test_log_events_are_single_json_lines(logs) -> None:
    structlog.get_logger("t").info("hello", region="eu-west")
    [line] = logs.getvalue().splitlines()
    event = json.loads(line)
    assert (event["event"], event["region"], event["level"]) == ("hello", "eu-west", "info")


def test_a_secret_is_redacted_wherever_it_appears(logs) -> None:
    log = structlog.get_logger("t")
    log.info("oops", detail=f"token={SECRET}", nested={"list": [SECRET]})
    text = logs.getvalue()
    assert SECRET not in text
    event = json.loads(text)
    assert event["detail"] == f"token={REDACTED}"
    assert event["nested"] == {"list": [REDACTED]}


def test_values_too_short_to_be_credentials_are_left_alone(logs) -> None:
    structlog.get_logger("t").info("a short answer")
    assert json.loads(logs.getvalue())["event"] == "a short answer"


def test_a_traceback_carrying_a_secret_is_redacted(logs) -> None:
    try:
        raise RuntimeError(f"bad key {SECRET}")
    except RuntimeError:
        structlog.get_logger("t").exception("failed")
    text = logs.getvalue()
    assert SECRET not in text
    assert REDACTED in json.loads(text)["exception"]
