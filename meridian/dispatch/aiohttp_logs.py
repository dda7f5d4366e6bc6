"""aiohttp's own loggers, routed into the service's JSON log as one line per event.

aiohttp reports a request its parser rejects (bad header bytes, a body shorter than its
Content-Length) through the stdlib logger ``aiohttp.server`` with a full traceback, which Python's
last-resort handler prints to stderr as plain text: many lines per bad request, outside the JSON
log. Here every record from the ``aiohttp`` loggers becomes one structlog event naming the error,
without the traceback; the access log stays off (dispatch logs its own events).
"""

from __future__ import annotations

import logging

import structlog
from aiohttp.http_exceptions import HttpProcessingError

AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal")
# What of an error's text reaches the log: enough to name the problem, not a flood.
MAX_ERROR_TEXT = 200


class StructlogBridge(logging.Handler):
    """Forwards stdlib records to structlog as one event each, exception summarised."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, object] = {"logger": record.name}
            level = record.levelno
            event = "http_error" if level >= logging.WARNING else "http_debug"
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None:
                fields["error"] = type(exc).__name__
                fields["detail"] = " ".join(str(exc).split())[:MAX_ERROR_TEXT]
                if isinstance(exc, HttpProcessingError):
                    # the client's malformed HTTP, answered 400 by aiohttp: not our error
                    event, level = "bad_http_request", logging.INFO
            message = " ".join(record.getMessage().split())[:MAX_ERROR_TEXT]
            structlog.get_logger("dispatch.http").log(level, event, message=message, **fields)
        except Exception:  # logging must never take the server down
            self.handleError(record)


def route_aiohttp_logs(level: int = logging.INFO) -> None:
    """Send the aiohttp loggers through structlog (idempotent)."""
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, StructlogBridge)]
        logger.addHandler(StructlogBridge())
        logger.setLevel(level)
        logger.propagate = False
