"""Dispatch logs are JSON lines (meridian.logs), and its credentials never reach one."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import structlog
from aiohttp.test_utils import TestServer

from meridian.dispatch.__main__ import configure_dispatch_logging
from meridian.dispatch.aiohttp_logs import AIOHTTP_LOGGERS, StructlogBridge
from meridian.dispatch.app import create_app
from meridian.dispatch.settings import load_settings
from meridian.logs import REDACTED
from tests.dispatch.support import API_SECRET, base_env, board_for

SHARED_SECRET = "a-shared-secret-for-backend-callers"


@pytest.fixture(autouse=True)
def _restore_structlog():
    yield
    structlog.reset_defaults()
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, StructlogBridge)]
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


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


async def _send(port: int, data: bytes, *, abort: bool) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if abort:
        await asyncio.sleep(0.05)
        writer.close()
        return b""
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_aborted_uploads_and_parser_errors_log_one_json_line_each(settings, capfd):
    captured = io.StringIO()
    configure_dispatch_logging(settings, stream=captured)
    server = TestServer(create_app(settings, board=board_for(settings), probe=False))
    await server.start_server()
    try:
        partial = b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
        for _ in range(5):
            await _send(server.port, partial, abort=True)
        bad = b"POST /token HTTP/1.1\r\nHost: x\x00y\r\nContent-Length: 2\r\n\r\n{}"
        answers = [await _send(server.port, bad, abort=False) for _ in range(3)]
        await asyncio.sleep(0.2)
    finally:
        await server.close()
    assert all(answer.startswith(b"HTTP/1.") and b" 400 " in answer for answer in answers)
    events = [json.loads(line) for line in captured.getvalue().splitlines()]
    aborted = [e for e in events if e["event"] == "client_aborted"]
    rejected = [e for e in events if e["event"] == "bad_http_request"]
    assert len(aborted) == 5
    assert len(rejected) == 3
    assert rejected[0]["error"] == "BadHttpMessage"
    assert "Invalid header value char" in rejected[0]["detail"]
    assert "Traceback" not in captured.getvalue()
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
