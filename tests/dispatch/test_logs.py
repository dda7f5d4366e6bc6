"""Dispatch logs are JSON lines (meridian.logs), and its credentials never reach one."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from dispatch.__main__ import configure_dispatch_logging
from dispatch.settings import load_settings
from meridian.logs import REDACTED
from tests.dispatch.support import API_SECRET, base_env

SHARED_SECRET = "a-shared-secret-for-backend-callers"


@pytest.fixture(autouse=True)
def _restore_structlog():
    yield
    structlog.reset_defaults()


def test_a_log_line_carrying_a_dispatch_credential_is_redacted():
    settings = load_settings(
        base_env(MERIDIAN_DISPATCH_SHARED_SECRET=SHARED_SECRET, LIVEKIT_API_KEY="APIkey-0123456789")
    )
    captured = io.StringIO()
    configure_dispatch_logging(settings, stream=captured)
    log = structlog.get_logger("dispatch")
    log.info("oops", secret=API_SECRET, header=f"key={SHARED_SECRET}", api_key="APIkey-0123456789")
    text = captured.getvalue()
    assert API_SECRET not in text and SHARED_SECRET not in text and "APIkey-0123456789" not in text
    event = json.loads(text)
    assert (event["secret"], event["header"], event["api_key"]) == (
        REDACTED,
        f"key={REDACTED}",
        REDACTED,
    )


def test_debug_events_stay_out_of_the_service_logs(settings):
    captured = io.StringIO()
    configure_dispatch_logging(settings, stream=captured)
    structlog.get_logger("dispatch").debug("token_issued", region="eu-west")
    structlog.get_logger("dispatch").info("dispatch_starting")
    assert [json.loads(line)["event"] for line in captured.getvalue().splitlines()] == [
        "dispatch_starting"
    ]
